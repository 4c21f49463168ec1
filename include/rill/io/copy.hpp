// rill::io::copy and rill::io::copy_bidirectional: pump bytes between streams.
//
//     std::uint64_t n = co_await rill::io::copy(reader, writer);
//     auto [a_to_b, b_to_a] = co_await rill::io::copy_bidirectional(client, upstream);
//
// copy(r, w) reads r until EOF, writes everything to w, flushes w, and returns the
// number of bytes copied; it does not shut w down. It also flushes w after every read
// that returned less than its buffer (r has nothing more for now, as Tokio's copy), so
// a request/response through a buffered w (buf_writer) does not stall until EOF.
// copy_bidirectional(a, b) copies a -> b and b -> a at the same time, each direction
// as copy() does, inside the awaiting task (two branches, one task: no extra spawn, no
// locks). When one direction reaches EOF it shuts down the write side of its
// destination and the other direction keeps going; the await ends when both are done
// and yields {a_to_b, b_to_a}. An error in either direction cancels the other one and
// is rethrown. The task it returns may be kept and raced by reference in a select loop
// (future::by_ref): between two selects the directions pause. The streams must outlive
// the await; each needs to accept a read and a write in flight at the same time (true
// of sockets, duplex and any stream whose read and write sides are independent).
//
// Cancel safety: bytes read but not yet written when the await is destroyed are lost
// (as Tokio's copy). Destroying the await cancels both directions.
// Resumes on: the awaiting task's worker.
// Thread safety: one task uses the streams for the duration of the copy.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>
#include <vector>

#include "rill/detail/branch.hpp"
#include "rill/detail/result.hpp"
#include "rill/io/read.hpp"
#include "rill/io/traits.hpp"
#include "rill/io/write.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// Copies r to w until r's EOF, then flushes w. Returns the bytes copied. w is also
/// flushed after each read that did not fill the buffer (r had nothing more for now).
template <async_read R, async_write W>
task<std::uint64_t> copy(R& r, W& w) {
    std::vector<std::byte> buf(default_chunk);
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t n = co_await r.read(std::span<std::byte>(buf));
        if (n == 0) break;
        co_await write_all(w, std::span<const std::byte>(buf.data(), n));
        total += n;
        // A short read means r has nothing more for now: what w buffers goes out before
        // we wait, or a request/response through a buffered writer stalls.
        if (n < buf.size()) co_await w.flush();
    }
    co_await w.flush();
    co_return total;
}

/// Bytes copied in each direction by copy_bidirectional.
struct copy_counts {
    std::uint64_t a_to_b = 0;
    std::uint64_t b_to_a = 0;
};

namespace detail {

template <class R, class W>
task<std::uint64_t> copy_then_shutdown(R& r, W& w) {
    const std::uint64_t n = co_await copy(r, w);
    co_await w.shutdown();
    co_return n;
}

/// Runs `t` and stores its outcome in `*out` (the branch itself never fails).
inline task<void> capture_outcome(task<std::uint64_t> t, rill::detail::result<std::uint64_t>* out) {
    try {
        out->set_value(co_await std::move(t));
    } catch (...) {
        out->set_exception(std::current_exception());
    }
}

/// Awaits two tasks concurrently inside the awaiting task; the first failure cancels the
/// other and is rethrown.
class join_two {
public:
    join_two(task<std::uint64_t> a, task<std::uint64_t> b)
        : b0_(rill::detail::make_branch<void, task<void>>(capture_outcome(std::move(a), &out_[0]))),
          b1_(rill::detail::make_branch<void, task<void>>(capture_outcome(std::move(b), &out_[1]))) {}
    join_two(const join_two&) = delete;
    join_two& operator=(const join_two&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = rill::detail::node_of(h);
        if (node == nullptr) rill::detail::throw_not_in_task();
        parent_ = h;
        // Started below our node: while the awaiter above us is detached (this await
        // pinned and raced by reference in a select loop) a wake parks the branches
        // instead of running them, so they never complete into a combinator that is gone.
        b0_.start(node, this, &on_done, 0);
        if (!finished()) b1_.start(node, this, &on_done, 1);
        if (finished()) return false;
        armed_ = true;
        return true;
    }
    copy_counts await_resume() {
        armed_ = false;
        // Cancel whatever still runs (only after a failure) before reporting.
        b0_.reset();
        b1_.reset();
        if (out_[0].has_exception()) out_[0].take();
        if (out_[1].has_exception()) out_[1].take();
        return {out_[0].take(), out_[1].take()};
    }

private:
    bool finished() const noexcept { return done_ == 2 || out_[0].has_exception() || out_[1].has_exception(); }
    static std::coroutine_handle<> on_done(void* self, unsigned) noexcept {
        auto* s = static_cast<join_two*>(self);
        ++s->done_;
        return s->armed_ && s->finished() ? s->parent_ : std::coroutine_handle<>(std::noop_coroutine());
    }

    rill::detail::result<std::uint64_t> out_[2];
    rill::detail::branch<void> b0_;
    rill::detail::branch<void> b1_;
    std::coroutine_handle<> parent_{};
    unsigned done_ = 0;
    bool armed_ = false;
};

inline task<copy_counts> run_join_two(task<std::uint64_t> a, task<std::uint64_t> b) {
    co_return co_await join_two(std::move(a), std::move(b));
}

}  // namespace detail

/// Copies a -> b and b -> a concurrently until both directions reached EOF.
template <class A, class B>
    requires async_read<A> && async_write<A> && async_read<B> && async_write<B>
task<copy_counts> copy_bidirectional(A& a, B& b) {
    return detail::run_join_two(detail::copy_then_shutdown(a, b), detail::copy_then_shutdown(b, a));
}

}  // namespace rill::io
