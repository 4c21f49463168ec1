// rill::time::timeout: an awaitable with a deadline.
//
//     try {
//         auto v = co_await rill::time::timeout(500ms, fetch(url));
//     } catch (const rill::time::elapsed&) { ... }
//
// Runs the awaitable and a timer concurrently inside the awaiting task. If the awaitable
// completes first its value (or exception) is returned and the timer is cancelled;
// if the deadline passes first the awaitable is destroyed — cancelled, its destructors
// run — and rill::time::elapsed is thrown. A tie goes to the awaitable, as in Tokio
// (which polls the inner future first): one that completes at the deadline's tick (its
// own sleep ends then, or it was woken by then) returns its value. Works on any
// awaitable: a task, a join handle (by reference: `timeout(1s, handle)` leaves the
// handle usable after a timeout), a channel receive, a socket read. The one-shot
// awaiters (select, join, join_all, timeout, stream next(), futures_unordered next())
// must be passed as rvalues: by reference they are a compile error (future/by_ref.hpp).
//
// Cancel safety: whatever the inner awaitable's is; a timed-out or destroyed timeout
// destroys the inner awaitable (by reference: leaves it, unregistered).
// Resumes on: the awaiting task's worker.
// Thread safety: used by one task.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/branch.hpp"
#include "rill/error.hpp"
#include "rill/runtime/yield_now.hpp"
#include "rill/time/sleep.hpp"

namespace rill::time {

/// Thrown by timeout when the deadline passes first.
class elapsed : public rill::error {
public:
    elapsed() : rill::error("deadline has elapsed") {}
};

namespace detail {

/// The deadline branch of a timeout. When its timer fires it yields once before
/// reporting: the wheel fires all the timers of a tick (and their wakes reach this task)
/// before the task runs, but this branch may be resumed before an inner branch woken in
/// the same tick (wakes run in wake order, and the order of one tick's timers is not
/// the registration order), and the first branch to finish wins. The yield puts the
/// report after every wake already delivered, so an inner that can finish now does.
/// This costs one extra poll, and only when the deadline passes; a deadline already past
/// at the start needs no yield (the inner was started, and polled, first).
/// Cancel safety: destroying it unregisters the timer, or drops the pending yield wake.
inline rill::detail::branch_task<void> deadline_branch(instant deadline) {
    timer t(deadline);
    if (t.is_elapsed()) co_return;
    co_await t;
    co_await rill::yield_now();
}

template <class T, class A>
class timeout_awaiter {
public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    timeout_awaiter(instant deadline, A&& a)
        : inner_(rill::detail::make_branch<T, A>(std::forward<A>(a))),
          timer_(deadline_branch(deadline)) {}
    /// Moved only before it is awaited (into a select or join branch, as an rvalue).
    timeout_awaiter(timeout_awaiter&&) noexcept = default;
    timeout_awaiter(const timeout_awaiter&) = delete;

    bool await_ready() const noexcept { return false; }

    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = rill::detail::node_of(h);
        if (node == nullptr) rill::detail::throw_not_in_task();
        parent_ = h;
        inner_.start(node, this, &on_done, 0);
        if (winner_ >= 0) return false;
        timer_.start(node, this, &on_done, 1);
        if (winner_ >= 0) return false;
        armed_ = true;
        return true;
    }

    T await_resume() {
        armed_ = false;
        if (winner_ == 0) {
            timer_.reset();
            return inner_.take();
        }
        inner_.reset();  // cancel the inner awaitable before reporting the timeout
        // The timer itself failed (no runtime, or the runtime has no time driver): that
        // error, not elapsed, is the outcome.
        if (timer_.failed()) timer_.take();
        throw elapsed();
    }

private:
    static std::coroutine_handle<> on_done(void* self, unsigned index) noexcept {
        auto* s = static_cast<timeout_awaiter*>(self);
        if (s->winner_ < 0) s->winner_ = static_cast<int>(index);
        return s->armed_ ? s->parent_ : std::noop_coroutine();
    }

    rill::detail::branch<T> inner_;
    rill::detail::branch<void> timer_;
    std::coroutine_handle<> parent_{};
    int winner_ = -1;
    bool armed_ = false;
};

}  // namespace detail

/// Awaits `a` for at most `d`; throws elapsed on expiry (after destroying `a`'s await).
template <class Rep, class Period, class A>
auto timeout(std::chrono::duration<Rep, Period> d, A&& a) {
    using T = rill::detail::await_result_t<A>;
    return detail::timeout_awaiter<T, A>(instant::now() + d, std::forward<A>(a));
}

/// Awaits `a` until `deadline`; throws elapsed on expiry.
template <class A>
auto timeout_at(instant deadline, A&& a) {
    using T = rill::detail::await_result_t<A>;
    return detail::timeout_awaiter<T, A>(deadline, std::forward<A>(a));
}

}  // namespace rill::time
