// rill::task<T>: the lazy coroutine every rill program is built from.
//
// A task does nothing until it is awaited (`co_await t`) or spawned (`rill::spawn(t)`):
// calling a coroutine that returns task<T> only allocates its frame. Awaiting uses
// symmetric transfer, so a chain of synchronous awaits, however long or deep, runs in
// constant stack. The result is the returned value, or the exception that escaped the
// body, rethrown in the awaiter (the C++ form of Rust's `?`).
//
// Lifetime: task<T> is move-only and owns its frame. Destroying a task that has not
// started, or that is suspended, destroys the frame and everything in it — this is how
// rill cancels (DESIGN §4). T may be void, a reference, or a move-only type.
//
// Cancel safety: awaiting a task is cancel-safe: destroying the awaiting coroutine
// destroys the awaited task's frame and cancels whatever it was waiting on.
// Resumes on: the thread that completes the awaited task, which is the awaiting task's
// own worker (one task, one thread at a time).
// Thread safety: a task object is not thread-safe; it belongs to one coroutine.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "rill/detail/frame_alloc.hpp"
#include "rill/detail/result.hpp"
#include "rill/detail/task_header.hpp"

namespace rill {

template <class T = void>
class task;

namespace detail {

/// Base of every rill promise: the wake node of the branch this coroutine runs in.
/// It is copied from the awaiter when a task starts, so a leaf awaitable finds the node
/// of its task through the handle it is given in await_suspend.
struct promise_base {
    wake_node* node_ = nullptr;

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
};

/// The wake node of the coroutine `h`, or null when `h` is not a rill coroutine.
template <class P>
wake_node* node_of(std::coroutine_handle<P> h) noexcept {
    if constexpr (std::is_base_of_v<promise_base, P>) {
        return h.promise().node_;
    } else {
        return nullptr;
    }
}

template <class T>
struct task_promise;

template <class T>
struct task_final_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<task_promise<T>> h) noexcept {
        std::coroutine_handle<> c = h.promise().continuation();
        return c ? c : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
};

template <class T>
struct task_promise_common : promise_base {
    // The awaiting coroutine's address; bit 0 set: node_ is a relay this frame owns (the
    // task was awaited by reference from a branch; see relay_node). Null: never awaited.
    std::uintptr_t continuation_ = 0;
    result<T> result_;

    task_promise_common() noexcept = default;
    task_promise_common(const task_promise_common&) = delete;
    ~task_promise_common() {
        if (continuation_ & 1u) relay_release(static_cast<relay_node*>(node_));
    }

    std::coroutine_handle<> continuation() const noexcept {
        return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(continuation_ & ~std::uintptr_t{1}));
    }
    bool owns_relay() const noexcept { return continuation_ & 1u; }
    void set_continuation(std::coroutine_handle<> c, bool relay) noexcept {
        continuation_ = reinterpret_cast<std::uintptr_t>(c.address()) | (relay ? 1u : 0u);
    }

    std::suspend_always initial_suspend() const noexcept { return {}; }
    task_final_awaiter<T> final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept {
        result_.set_exception(std::current_exception());
        mark_root_failed(node_, continuation_ != 0);
    }
};

template <class T>
struct task_promise : task_promise_common<T> {
    task<T> get_return_object() noexcept;
    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) {
        this->result_.set_value(std::forward<U>(v));
    }
};

template <>
struct task_promise<void> : task_promise_common<void> {
    task<void> get_return_object() noexcept;
    void return_void() noexcept { this->result_.set_void(); }
};

[[noreturn]] void throw_task_reawait();

/// Awaiting a task. The task may outlive the await when it is awaited by reference
/// (`co_await t` on an lvalue, ByRef): inside a select or join branch (its node is a
/// branch node) the await can be abandoned while the task is suspended, and the task
/// awaited again later (the `tokio::pin!(fut); select! { r = &mut fut => ... }`
/// pattern). So there the task gets a relay (relay_node) that everything inside it
/// registers with; each await attaches the relay below the awaiting coroutine, and
/// abandoning the await detaches it (wakes are parked until the next await). A task
/// that was started and abandoned can be awaited again, by reference or not, only
/// through its relay.
template <class T, bool ByRef>
class task_awaiter {
public:
    explicit task_awaiter(std::coroutine_handle<task_promise<T>> child) noexcept : child_(child) {}
    task_awaiter(const task_awaiter&) = delete;
    task_awaiter& operator=(const task_awaiter&) = delete;
    ~task_awaiter() {
        if (relay_) relay_detach(relay_);  // abandoned while the task is suspended
    }

    bool await_ready() const noexcept { return child_.done(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) {
        auto& cp = child_.promise();
        wake_node* pn = node_of(parent);
        if (cp.continuation_ == 0) [[likely]] {  // first await: start it
            if (ByRef && pn != nullptr && pn->branch_) {
                relay_ = relay_create(rill::detail::node_task(pn), pn);
                cp.node_ = relay_;
                cp.set_continuation(parent, true);
            } else {
                cp.node_ = pn;
                cp.set_continuation(parent, false);
            }
            return child_;
        }
        // Started and abandoned earlier: resumable only through its relay, in its task.
        if (!cp.owns_relay() || pn == nullptr || rill::detail::node_task(pn) != rill::detail::node_task(cp.node_)) throw_task_reawait();
        relay_ = static_cast<relay_node*>(cp.node_);
        cp.set_continuation(parent, true);
        relay_attach(relay_, pn);  // parked wakes run at the task's next poll
        return std::noop_coroutine();
    }
    T await_resume() {
        if (relay_) relay_detach(std::exchange(relay_, nullptr));
        return child_.promise().result_.take();
    }

private:
    std::coroutine_handle<task_promise<T>> child_;
    relay_node* relay_ = nullptr;
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    /// True when this object holds a coroutine (false after a move).
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }
    /// True when the coroutine ran to completion.
    bool is_ready() const noexcept { return handle_ && handle_.done(); }

    /// Awaiting an empty task is undefined; awaiting a task again after it completed
    /// throws std::logic_error (its result is handed out once).
    detail::task_awaiter<T, false> operator co_await() && noexcept { return detail::task_awaiter<T, false>(handle_); }
    detail::task_awaiter<T, true> operator co_await() & noexcept { return detail::task_awaiter<T, true>(handle_); }

    /// Gives up ownership of the frame (used by spawn and the test harness).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, {}); }

private:
    void destroy() noexcept {
        if (handle_) std::exchange(handle_, {}).destroy();
    }
    std::coroutine_handle<promise_type> handle_{};
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace rill
