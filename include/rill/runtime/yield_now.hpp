// rill::yield_now(): lets the worker run other tasks before this one continues.
//
//     for (auto& item : big_batch) { process(item); co_await rill::yield_now(); }
//
// The task goes to the back of its worker's run queue (not the LIFO slot) and is resumed
// after what is already queued. Outside a runtime (under rill::test::mock_task) it
// suspends once and reports itself woken.
//
// Cancel safety: safe; nothing is lost if the task is destroyed while yielded.
// Resumes on: the task's worker (any worker for multi_thread, after a steal).
// Thread safety: n/a (an awaitable used by one task).
#pragma once

#include <coroutine>

#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill {

namespace detail {
/// Marks the node woken and its task notified, so it runs again after this poll.
void yield_wake(wake_node* n) noexcept;
}  // namespace detail

struct yield_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        detail::wake_node* n = detail::node_of(h);
        if (n == nullptr) detail::throw_not_in_task();
        n->resume_ = h;
        detail::yield_wake(n);
    }
    void await_resume() const noexcept {}
};

/// Yields to the scheduler once.
inline yield_awaiter yield_now() noexcept { return {}; }

}  // namespace rill
