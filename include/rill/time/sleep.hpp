// rill::time::sleep, sleep_until and the timer they return.
//
//     co_await rill::time::sleep(100ms);
//     rill::time::timer t = rill::time::sleep_until(deadline);
//     t.reset(rill::time::instant::now() + 1s);   // move a pending sleep
//     co_await t;
//
// A timer completes once instant::now() >= its deadline; it never completes early
// (deadlines round up to the next millisecond of the runtime's wheel). It can be awaited
// by reference repeatedly (in a select loop, say): awaiting an elapsed timer completes
// at once, and re-awaiting a pending one keeps its place in the wheel. Requires a
// runtime with time enabled (builder::enable_time / enable_all).
//
// Cancel safety: safe. Destroying a coroutine waiting on a timer unregisters it (O(1));
// a timer awaited by reference from a destroyed branch stays armed for the next await.
// Resumes on: the awaiting task's worker.
// Thread safety: a timer is used by one task; the wheel it registers in is shared.
#pragma once

#include <chrono>
#include <coroutine>
#include <utility>

#include "rill/detail/timer_entry.hpp"
#include "rill/detail/waiter.hpp"
#include "rill/time/instant.hpp"

namespace rill::time {

namespace detail {
/// Registers (or re-arms with a new waker) `e` for `deadline`. False: already elapsed
/// (nothing registered, the caller keeps `waker`). Throws std::logic_error (no runtime,
/// time not enabled) before registering anything: the caller keeps `waker` then too.
bool timer_register(rill::detail::timer_entry* e, std::chrono::steady_clock::time_point deadline,
                    rill::detail::wake_node* waker);
/// Withdraws `e` if registered and marks it idle.
void timer_unregister(rill::detail::timer_entry* e) noexcept;
}  // namespace detail

class timer {
public:
    explicit timer(instant deadline) noexcept : deadline_(deadline) {}
    timer(timer&& o) noexcept : deadline_(o.deadline_) { detail::timer_unregister(&o.entry_); }
    timer& operator=(timer&& o) noexcept {
        if (this != &o) {
            detail::timer_unregister(&entry_);
            detail::timer_unregister(&o.entry_);
            deadline_ = o.deadline_;
        }
        return *this;
    }
    timer(const timer&) = delete;
    timer& operator=(const timer&) = delete;
    ~timer() { detail::timer_unregister(&entry_); }

    instant deadline() const noexcept { return deadline_; }
    /// True when the deadline has passed.
    bool is_elapsed() const noexcept { return instant::now() >= deadline_; }
    /// Moves the deadline; a pending await is re-armed at its next poll.
    void reset(instant deadline) noexcept {
        detail::timer_unregister(&entry_);
        deadline_ = deadline;
    }

    // The clock is read once per await, in timer_register (which reports an elapsed
    // deadline by refusing to register).
    bool await_ready() const noexcept {
        return entry_.state_.load(std::memory_order_acquire) == rill::detail::timer_entry::fired;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = rill::detail::counted_node(h);
        bool registered;
        try {
            registered = detail::timer_register(&entry_, deadline_.time_point(), node);
        } catch (...) {  // no runtime, or time not enabled: nothing holds the node
            rill::detail::drop_node(node);
            throw;
        }
        if (!registered) rill::detail::drop_node(node);
        return registered;
    }
    void await_resume() noexcept { detail::timer_unregister(&entry_); }

private:
    instant deadline_;
    rill::detail::timer_entry entry_;
};

/// A timer that completes `d` from now.
template <class Rep, class Period>
timer sleep(std::chrono::duration<Rep, Period> d) noexcept {
    return timer(instant::now() + d);
}

/// A timer that completes at `deadline`.
inline timer sleep_until(instant deadline) noexcept { return timer(deadline); }

}  // namespace rill::time
