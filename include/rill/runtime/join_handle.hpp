// rill::join_handle<T>: the owned permission to await a spawned task's output.
//
// `co_await handle` returns the task's value, rethrows the exception that escaped it,
// or throws rill::join_error (is_cancelled()) when the task was aborted or destroyed by
// runtime shutdown. spawn_blocking work that no thread could ever run (none could be
// started and none was running) rethrows the thread start's std::system_error (also
// printed to stderr). The first wait on an unfinished task allocates the task's waker
// slot and may throw std::bad_alloc, having registered nothing. Dropping the handle
// detaches the task: it keeps running and its
// output is destroyed when it finishes (an exception nobody will see is reported to
// the runtime's unhandled-exception hook). `abort()` cancels the task: its frame is
// destroyed at its next suspension point, on its own worker.
//
// Cancel safety: awaiting a join handle is cancel-safe: destroying the awaiting
// coroutine unregisters it; the task keeps running and the handle can be awaited again.
// Resumes on: the awaiting task's worker.
// Thread safety: a join_handle may be moved to and used from any thread, by one user
// at a time; abort() and is_finished() may race with the task's completion. To cancel
// from another thread while the handle is used or dropped elsewhere, take an
// abort_handle (get_abort_handle()).
#pragma once

#include <coroutine>
#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <utility>

#include "rill/detail/cells.hpp"
#include "rill/detail/context.hpp"
#include "rill/error.hpp"

namespace rill {

template <class T>
class join_handle;

/// A handle that can only cancel a task, and may be copied to and used from any thread
/// while the join_handle is used (or dropped) elsewhere (Tokio's AbortHandle). It keeps
/// the task's header alive, not its output.
class abort_handle {
public:
    abort_handle() noexcept = default;
    explicit abort_handle(detail::header* h) noexcept : header_(h) {
        if (header_) detail::ref_inc(header_);
    }
    abort_handle(const abort_handle& o) noexcept : abort_handle(o.header_) {}
    abort_handle(abort_handle&& o) noexcept : header_(std::exchange(o.header_, nullptr)) {}
    abort_handle& operator=(abort_handle o) noexcept {
        std::swap(header_, o.header_);
        return *this;
    }
    ~abort_handle() {
        if (header_) detail::ref_dec(header_);
    }
    /// Requests cancellation; a no-op once the task finished.
    void abort() const noexcept {
        if (header_) detail::join_abort(header_);
    }
    bool is_finished() const noexcept {
        return header_ && (header_->state_.load(std::memory_order_acquire) & detail::state::complete);
    }
    std::uint64_t id() const noexcept { return header_ ? header_->id() : 0; }

private:
    detail::header* header_ = nullptr;
};

namespace detail {

template <class T>
class join_awaiter {
public:
    explicit join_awaiter(join_handle<T>& jh) noexcept : jh_(jh) {}
    join_awaiter(const join_awaiter&) = delete;
    join_awaiter& operator=(const join_awaiter&) = delete;
    ~join_awaiter() {
        if (registered_) join_unregister(jh_.header_);
    }

    bool await_ready() const {
        if (jh_.header_ == nullptr || jh_.taken_)
            throw std::logic_error("rill: join_handle awaited after its output was taken");
        return jh_.is_finished();
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        wake_node* node = node_of(h);
        if (node == nullptr) throw_not_in_task();
        node->resume_ = h;
        registered_ = join_register(jh_.header_, node);
        return registered_;
    }
    T await_resume() {
        registered_ = false;
        return jh_.take_output();
    }

private:
    join_handle<T>& jh_;
    bool registered_ = false;
};

}  // namespace detail

template <class T>
class [[nodiscard]] join_handle {
public:
    join_handle() noexcept = default;
    explicit join_handle(detail::header* h) noexcept : header_(h) {}
    join_handle(join_handle&& o) noexcept
        : header_(std::exchange(o.header_, nullptr)), taken_(std::exchange(o.taken_, false)) {}
    join_handle& operator=(join_handle&& o) noexcept {
        if (this != &o) {
            reset();
            header_ = std::exchange(o.header_, nullptr);
            taken_ = std::exchange(o.taken_, false);
        }
        return *this;
    }
    join_handle(const join_handle&) = delete;
    join_handle& operator=(const join_handle&) = delete;
    ~join_handle() { reset(); }

    /// Requests cancellation; a no-op once the task finished.
    void abort() const noexcept {
        if (header_) detail::join_abort(header_);
    }
    /// A handle that can cancel the task from another thread (see abort_handle).
    abort_handle get_abort_handle() const noexcept { return abort_handle(header_); }
    /// True once the task finished (value, exception or cancelled).
    bool is_finished() const noexcept {
        return header_ && (header_->state_.load(std::memory_order_acquire) & detail::state::complete);
    }
    /// The task's id (48 bits, from a process-wide counter: not reused before 2^48 spawns).
    std::uint64_t id() const noexcept { return header_ ? header_->id() : 0; }
    /// Where the task was spawned.
    std::source_location location() const noexcept { return header_ ? header_->location() : std::source_location{}; }
    /// Drops the handle, letting the task run on its own.
    void detach() noexcept { reset(); }

    detail::join_awaiter<T> operator co_await() & noexcept { return detail::join_awaiter<T>(*this); }
    detail::join_awaiter<T> operator co_await() && noexcept { return detail::join_awaiter<T>(*this); }

private:
    friend class detail::join_awaiter<T>;

    T take_output() {
        taken_ = true;
        const std::uint64_t st = header_->state_.load(std::memory_order_acquire);
        if (st & detail::state::cancelled) throw join_error(header_->id());
        auto* out = static_cast<detail::result<T>*>(header_->vtable()->output(header_));
        if (out->has_exception()) {
            std::exception_ptr e = out->exception();
            header_->vtable()->drop_output(header_);
            std::rethrow_exception(std::move(e));
        }
        if constexpr (std::is_void_v<T>) {
            header_->vtable()->drop_output(header_);
        } else {
            T value = out->take();
            header_->vtable()->drop_output(header_);
            return value;
        }
    }

    void reset() noexcept {
        if (detail::header* h = std::exchange(header_, nullptr)) detail::join_handle_drop(h, taken_);
        taken_ = false;
    }

    detail::header* header_ = nullptr;
    bool taken_ = false;
};

}  // namespace rill
