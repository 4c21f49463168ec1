// rill::time::timeout: an awaitable with a deadline.
//
//     try {
//         auto v = co_await rill::time::timeout(500ms, fetch(url));
//     } catch (const rill::time::elapsed&) { ... }
//
// Runs the awaitable and a timer concurrently inside the awaiting task. If the awaitable
// completes first its value (or exception) is returned and the timer is cancelled;
// if the deadline passes first the awaitable is destroyed — cancelled, its destructors
// run — and rill::time::elapsed is thrown. Works on any awaitable: a task, a join handle
// (by reference: `timeout(1s, handle)` leaves the handle usable after a timeout), a
// channel receive, a socket read.
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
#include "rill/time/sleep.hpp"

namespace rill::time {

/// Thrown by timeout when the deadline passes first.
class elapsed : public rill::error {
public:
    elapsed() : rill::error("deadline has elapsed") {}
};

namespace detail {

template <class T, class A>
class timeout_awaiter {
public:
    timeout_awaiter(instant deadline, A&& a)
        : inner_(rill::detail::make_branch<T, A>(std::forward<A>(a))),
          timer_(rill::detail::make_branch<void, timer>(timer(deadline))) {}
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
