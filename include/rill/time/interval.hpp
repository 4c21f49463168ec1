// rill::time::interval: ticks at a fixed period.
//
//     auto iv = rill::time::interval(100ms);
//     for (int i = 0; i < 5; ++i) co_await iv.tick();   // first tick completes at once
//
// tick() completes at start, start + period, start + 2*period, ... and returns the
// instant the tick was scheduled for. When ticks are missed (the task was busy past a
// tick by more than 5 ms), missed_tick_behavior decides what follows, as in Tokio:
//   burst (default): the missed ticks complete back to back until caught up;
//   delay: the next tick is one period after the late one completed;
//   skip:  the next tick is the next multiple of the period from start.
//
// Cancel safety: tick() is cancel-safe: destroying a coroutine waiting in it loses no
// tick; the next tick() completes for the same instant.
// Resumes on: the awaiting task's worker.
// Thread safety: an interval is used by one task.
#pragma once

#include <chrono>
#include <coroutine>
#include <stdexcept>

#include "rill/time/sleep.hpp"

namespace rill::time {

enum class missed_tick_behavior { burst, delay, skip };

class interval {
public:
    /// Ticks now, then every `period`.
    template <class Rep, class Period>
    explicit interval(std::chrono::duration<Rep, Period> period)
        : interval(instant::now(), detail::saturating_ns(period)) {}
    /// Ticks at `start`, then every `period`.
    interval(instant start, duration period) : period_(period), timer_(start) {
        if (period <= duration::zero()) throw std::invalid_argument("rill::time::interval: period must be > 0");
    }

    class tick_awaiter {
    public:
        explicit tick_awaiter(interval& iv) noexcept : iv_(iv) {}
        bool await_ready() const noexcept { return iv_.timer_.await_ready(); }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            return iv_.timer_.await_suspend(h);
        }
        instant await_resume() noexcept {
            iv_.timer_.await_resume();
            return iv_.advance();
        }

    private:
        interval& iv_;
    };

    /// Completes at the next tick; returns the instant it was scheduled for.
    tick_awaiter tick() noexcept { return tick_awaiter(*this); }

    /// Restarts so the next tick is one period from now.
    void reset() noexcept { timer_.reset(instant::now() + period_); }
    /// The next tick completes at once.
    void reset_immediately() noexcept { timer_.reset(instant::now()); }
    void reset_after(duration d) noexcept { timer_.reset(instant::now() + d); }
    void reset_at(instant t) noexcept { timer_.reset(t); }

    duration period() const noexcept { return period_; }
    missed_tick_behavior missed_tick() const noexcept { return behavior_; }
    void set_missed_tick_behavior(missed_tick_behavior b) noexcept { behavior_ = b; }

private:
    instant advance() noexcept {
        const instant scheduled = timer_.deadline();
        const instant now = instant::now();
        instant next;
        if (now > scheduled + std::chrono::milliseconds(5)) {
            switch (behavior_) {
                case missed_tick_behavior::burst:
                    next = scheduled + period_;
                    break;
                case missed_tick_behavior::delay:
                    next = now + period_;
                    break;
                case missed_tick_behavior::skip: {
                    const auto late = (now - scheduled).count() % period_.count();
                    next = now + period_ - duration(late);
                    break;
                }
            }
        } else {
            next = scheduled + period_;
        }
        timer_.reset(next);
        return scheduled;
    }

    duration period_;
    missed_tick_behavior behavior_ = missed_tick_behavior::burst;
    timer timer_;
};

/// An interval whose first tick completes at `start`.
template <class Rep, class Period>
interval interval_at(instant start, std::chrono::duration<Rep, Period> period) {
    return interval(start, detail::saturating_ns(period));
}

}  // namespace rill::time
