// The cells behind spawned tasks: a header followed by the future or function.
//
// coro_cell: a spawned coroutine. Its output stays in the root promise until the
// join handle takes it; the frame is destroyed as soon as nobody can read the output
// (taken, handle dropped, or completion with no handle) or when the task is cancelled.
// blocking_cell<F>: a spawn_blocking function and the slot for its result.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "rill/detail/result.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::detail {

// Harness functions shared by all cells (src/runtime/task/harness.cpp).
/// Runs a notified task once on this thread (the caller gives the queue's ref).
void run_task(header* h) noexcept;
/// Cancels a task during runtime shutdown (the caller keeps its own ref).
void shutdown_task(header* h) noexcept;
/// As shutdown_task, but a task whose vtable has `fail` completes with `e` as its
/// output (its join handle rethrows it) instead of as cancelled.
void fail_task(header* h, std::exception_ptr e) noexcept;
/// Join-handle side of the protocol.
bool join_register(header* h, wake_node* waiter) noexcept;  // false: already complete
void join_unregister(header* h) noexcept;                    // awaiter destroyed while waiting
void join_handle_drop(header* h, bool output_taken) noexcept;
void join_abort(header* h) noexcept;
/// Reports an exception that no join handle will observe.
void report_unobserved(header* h, std::exception_ptr e) noexcept;

/// A spawned coroutine: the header and the root frame. One layout for every T (the
/// vtable, coro_vtable<T>, knows T), so spawning allocates and queues it out of line.
struct coro_cell final : header {
    std::coroutine_handle<> root_;

    coro_cell(const task_vtable* vt, scheduler_base* s, std::uint64_t initial_state,
              std::coroutine_handle<> root, wake_node** root_node) noexcept
        : header(vt, s, initial_state), root_(root) {
        *root_node = &main_;
        main_.resume_ = root;
        main_.woken_.store(true, std::memory_order_relaxed);
    }
};
static_assert(std::is_trivially_destructible_v<coro_cell>, "free_cell releases a coro_cell without running a destructor");

/// True for a coro_cell: its vtable has no dealloc (free_cell frees it itself).
inline bool is_coro_cell(const header* h) noexcept { return h->vtable_->dealloc == nullptr; }

/// Polls a coro_cell once (the caller holds RUNNING): resumes what was woken; true when
/// the root frame has finished.
inline bool poll_coro_cell(header* h) {
    run_woken(h);
    return static_cast<coro_cell*>(h)->root_.done();
}

/// The task_vtable of a coro_cell whose root frame is a task<T>.
template <class T>
struct coro_vtable {
    using handle_type = std::coroutine_handle<task_promise<T>>;
    static coro_cell* cell(header* h) noexcept { return static_cast<coro_cell*>(h); }
    static handle_type root(header* h) noexcept { return handle_type::from_address(cell(h)->root_.address()); }

    static void cancel(header* h) {
        if (auto r = std::exchange(cell(h)->root_, {})) r.destroy();
    }
    static std::exception_ptr drop_output(header* h) {
        std::exception_ptr e;
        if (cell(h)->root_) {
            auto& out = root(h).promise().result_;
            if (out.has_exception()) e = out.exception();
            std::exchange(cell(h)->root_, {}).destroy();
        }
        return e;
    }
    static void* output(header* h) { return &root(h).promise().result_; }

    // dealloc is null: free_cell frees a coro_cell itself.
    static constexpr task_vtable vtable{&poll_coro_cell, &cancel, &drop_output, nullptr, &output, nullptr};
};

/// Spawns the coroutine `root` (its promise's wake-node slot is `root_node`, its
/// vtable `vt`; `extra_state`: state bits beyond a new task's, state::uncounted for a
/// block_on root) on `s`, or on the calling thread's scheduler when `s` is null: allocates
/// its cell, gives it an id, `loc` and a runtime reference, and queues it. Returns the
/// cell, with one ref for the join handle. Throws std::logic_error when `s` is null and
/// the thread has no runtime, and std::bad_alloc; then nothing was taken from `root`.
header* spawn_coro(scheduler_base* s, std::coroutine_handle<> root, wake_node** root_node,
                   const task_vtable* vt, std::source_location loc, std::uint64_t extra_state);

template <class F>
using blocking_result_t = std::invoke_result_t<F&>;

template <class F>
struct blocking_cell final : header {
    using R = blocking_result_t<F>;
    std::optional<F> fn_;
    result<R> out_;

    blocking_cell(F&& f, scheduler_base* s, std::uint64_t initial_state)
        : header(&vtable, s, initial_state), fn_(std::move(f)) {}

    static bool poll(header* h) {
        auto* c = static_cast<blocking_cell*>(h);
        try {
            if constexpr (std::is_void_v<R>) {
                (*c->fn_)();
                c->out_.set_void();
            } else {
                c->out_.set_value((*c->fn_)());
            }
        } catch (...) {
            c->out_.set_exception(std::current_exception());
        }
        c->fn_.reset();
        return true;
    }
    static void cancel(header* h) { static_cast<blocking_cell*>(h)->fn_.reset(); }
    static std::exception_ptr drop_output(header* h) {
        auto* c = static_cast<blocking_cell*>(h);
        std::exception_ptr e;
        if (c->out_.has_exception()) e = c->out_.exception();
        c->out_.reset();
        return e;
    }
    static void dealloc(header* h) { delete static_cast<blocking_cell*>(h); }
    static void* output(header* h) { return &static_cast<blocking_cell*>(h)->out_; }
    static void fail(header* h, std::exception_ptr e) {
        auto* c = static_cast<blocking_cell*>(h);
        c->fn_.reset();
        c->out_.set_exception(std::move(e));
    }

    static constexpr task_vtable vtable{&poll, &cancel, &drop_output, &dealloc, &output, &fail};
};

}  // namespace rill::detail
