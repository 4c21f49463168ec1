// rill::stream::stream<T>: an async generator, written with co_yield and co_await in
// the same body, consumed with `co_await s.next()`.
//
//     rill::stream::stream<int> countdown(int n) {
//         for (int i = n; i > 0; --i) {
//             co_await rill::time::sleep(1s);
//             co_yield i;
//         }
//     }
//     auto s = countdown(5);
//     while (std::optional<int> v = co_await s.next()) print(*v);
//
// (The type lives in namespace rill::stream with the sources and combinators, as
// futures::stream does; rill::async_stream<T> is an alias.) Lazy: the body first runs
// at the first next(). next() returns the next yielded value, std::nullopt once the
// body returned, or rethrows the exception that escaped the body (then ends).
// Destroying the stream destroys its frame at once, wherever it is suspended, which
// cancels whatever the body was awaiting. Move-only.
//
// Cancel safety: next() is cancel-safe: if the coroutine awaiting it is destroyed (a
// select branch that lost) while the body is suspended inside a co_await, the body
// keeps its place and its registrations, and the next next() continues it (no item is
// lost). Inside a select or join branch, the body runs below a relay node (see
// detail/task_header.hpp and docs/design/composition.md) so that wakes reach whoever
// awaits it now; a stream consumed from a task's main line needs none. Pass a fresh
// next() to each select (`select(s.next(), ...)`): the awaiter of next() is one-shot,
// and passing it by reference (`auto n = s.next(); select(n, ...)`) is a compile error,
// since it would outlive a losing branch with the relay still attached to it.
// Resumes on: the consuming task's worker (the body runs in the consuming task).
// Thread safety: a stream is used by one task at a time; while its body is suspended
// in a co_await it may not move to another task.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::stream {

template <class T>
class stream;

namespace detail {

template <class T>
struct stream_promise;

template <class T>
struct stream_yield_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<stream_promise<T>> h) noexcept {
        auto& p = h.promise();
        p.in_flight_ = false;
        return p.consumer_ ? p.consumer_ : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
};

template <class T>
struct stream_promise : rill::detail::promise_base {
    T* value_ = nullptr;              // the yielded object (lives in the frame until resumed)
    const T* cvalue_ = nullptr;       // ... when yielded as a const lvalue (copied out)
    std::optional<T> converted_{};    // a yielded value of another type, converted
    std::exception_ptr error_{};
    std::coroutine_handle<> consumer_{};
    rill::detail::relay_node* relay_ = nullptr;  // owned; created on first use in a branch
    bool in_flight_ = false;  // resumed by a next() and not yet at a co_yield / the end
    bool via_relay_ = false;  // this run registers through relay_

    stream_promise() noexcept = default;
    stream_promise(const stream_promise&) = delete;
    ~stream_promise() {
        if (relay_ != nullptr) rill::detail::relay_release(relay_);
    }

    stream<T> get_return_object() noexcept;
    std::suspend_always initial_suspend() const noexcept { return {}; }
    stream_yield_awaiter<T> final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }
    void return_void() const noexcept {}

    stream_yield_awaiter<T> yield_value(T&& v) noexcept {
        value_ = std::addressof(v);
        cvalue_ = nullptr;
        return {};
    }
    stream_yield_awaiter<T> yield_value(const T& v) noexcept
        requires std::is_copy_constructible_v<T>
    {
        value_ = nullptr;
        cvalue_ = std::addressof(v);
        return {};
    }
    template <class U>
        requires(!std::is_same_v<std::remove_cvref_t<U>, T> && std::is_constructible_v<T, U &&>)
    stream_yield_awaiter<T> yield_value(U&& v) {
        converted_.emplace(std::forward<U>(v));
        value_ = std::addressof(*converted_);
        cvalue_ = nullptr;
        return {};
    }

    std::optional<T> take_value() {
        if constexpr (std::is_copy_constructible_v<T>) {
            if (value_ == nullptr) return std::optional<T>(*std::exchange(cvalue_, nullptr));
        }
        return std::optional<T>(std::move(*std::exchange(value_, nullptr)));
    }
};

[[noreturn]] inline void throw_stream_reuse() {
    throw std::logic_error(
        "rill::stream: next() of a stream abandoned mid-await from a task's main line, or from another task");
}

template <class T>
class next_awaiter {
public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    using handle_type = std::coroutine_handle<stream_promise<T>>;
    explicit next_awaiter(handle_type h) noexcept : gen_(h) {}
    /// Moved only before it is awaited (into a select or join branch).
    next_awaiter(next_awaiter&& o) noexcept : gen_(o.gen_), attached_(std::exchange(o.attached_, false)) {}
    next_awaiter(const next_awaiter&) = delete;
    next_awaiter& operator=(const next_awaiter&) = delete;
    ~next_awaiter() {
        if (attached_) rill::detail::relay_detach(gen_.promise().relay_);  // abandoned mid-await
    }

    bool await_ready() const noexcept { return !gen_ || gen_.done(); }

    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* pn = rill::detail::node_of(h);
        if (pn == nullptr) rill::detail::throw_not_in_task();
        auto& p = gen_.promise();
        if (p.in_flight_) {
            // Abandoned inside a co_await by an earlier next(): continue it where it is.
            if (!p.via_relay_ || p.relay_->task_ != rill::detail::node_task(pn)) throw_stream_reuse();
            p.consumer_ = h;
            attached_ = true;
            rill::detail::relay_attach(p.relay_, pn);  // parked wakes run at the next poll
            return std::noop_coroutine();
        }
        p.consumer_ = h;
        p.in_flight_ = true;
        if (pn->branch_) {
            if (p.relay_ == nullptr || p.relay_->task_ != rill::detail::node_task(pn)) {
                if (p.relay_ != nullptr) rill::detail::relay_release(p.relay_);
                p.relay_ = rill::detail::relay_create(rill::detail::node_task(pn), pn);
            } else {
                rill::detail::relay_attach(p.relay_, pn);
            }
            p.node_ = p.relay_;
            p.via_relay_ = true;
            attached_ = true;
        } else {
            p.node_ = pn;
            p.via_relay_ = false;
        }
        return gen_;
    }

    std::optional<T> await_resume() {
        if (!gen_) return std::nullopt;
        auto& p = gen_.promise();
        if (attached_) {
            attached_ = false;
            rill::detail::relay_detach(p.relay_);
        }
        if (p.error_) std::rethrow_exception(std::exchange(p.error_, nullptr));
        if (gen_.done()) return std::nullopt;
        return p.take_value();
    }

private:
    handle_type gen_;
    bool attached_ = false;
};

}  // namespace detail

template <class T>
class [[nodiscard]] stream {
    static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "stream<T> yields values");

public:
    using promise_type = detail::stream_promise<T>;
    using value_type = T;

    stream() noexcept = default;
    explicit stream(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    stream(stream&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    stream& operator=(stream&& o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    ~stream() { destroy(); }

    /// The next item, or std::nullopt at the end. Cancel safety: safe (file comment).
    [[nodiscard]] detail::next_awaiter<T> next() noexcept { return detail::next_awaiter<T>(h_); }

    /// True once the body has returned (or threw, and the exception was delivered).
    bool is_done() const noexcept { return !h_ || (h_.done() && !h_.promise().error_); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    void destroy() noexcept {
        if (h_) std::exchange(h_, {}).destroy();
    }
    std::coroutine_handle<promise_type> h_{};
};

namespace detail {
template <class T>
stream<T> stream_promise<T>::get_return_object() noexcept {
    return stream<T>(std::coroutine_handle<stream_promise>::from_promise(*this));
}
}  // namespace detail

}  // namespace rill::stream

namespace rill {
/// The async generator type (rill::stream::stream<T>).
template <class T>
using async_stream = stream::stream<T>;
}  // namespace rill
