// The cells behind spawned tasks: a header followed by the future or function.
//
// coro_cell<T>: a spawned coroutine. Its output stays in the root promise until the
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
/// Join-handle side of the protocol.
bool join_register(header* h, wake_node* waiter) noexcept;  // false: already complete
void join_unregister(header* h) noexcept;                    // awaiter destroyed while waiting
void join_handle_drop(header* h, bool output_taken) noexcept;
void join_abort(header* h) noexcept;
/// Reports an exception that no join handle will observe.
void report_unobserved(header* h, std::exception_ptr e) noexcept;

template <class T>
struct coro_cell final : header {
    using handle_type = std::coroutine_handle<task_promise<T>>;
    handle_type root_;

    coro_cell(task<T>&& t, scheduler_base* s, std::uint64_t initial_state) noexcept
        : header(&vtable, s, initial_state), root_(t.release()) {
        root_.promise().node_ = &main_;
        main_.resume_ = root_;
        main_.woken_.store(true, std::memory_order_relaxed);
    }

    static bool poll(header* h) {
        auto* c = static_cast<coro_cell*>(h);
        run_woken(h);
        return c->root_.done();
    }
    static void cancel(header* h) {
        auto* c = static_cast<coro_cell*>(h);
        if (c->root_) std::exchange(c->root_, {}).destroy();
    }
    static std::exception_ptr drop_output(header* h) {
        auto* c = static_cast<coro_cell*>(h);
        std::exception_ptr e;
        if (c->root_) {
            if (c->root_.promise().result_.has_exception()) e = c->root_.promise().result_.exception();
            std::exchange(c->root_, {}).destroy();
        }
        return e;
    }
    static void dealloc(header* h) {
        auto* c = static_cast<coro_cell*>(h);
        if (c->root_) c->root_.destroy();
        delete c;
    }
    static void* output(header* h) { return &static_cast<coro_cell*>(h)->root_.promise().result_; }

    static constexpr task_vtable vtable{&poll, &cancel, &drop_output, &dealloc, &output};
};

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

    static constexpr task_vtable vtable{&poll, &cancel, &drop_output, &dealloc, &output};
};

}  // namespace rill::detail
