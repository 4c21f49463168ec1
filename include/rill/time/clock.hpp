// Controlling the runtime clock in tests: pause, advance, resume.
//
//     auto rt = rill::builder::new_current_thread().enable_time().start_paused(true).build();
//     rt.block_on(test_body());   // sleeps complete instantly, in deadline order
//
// While paused, instant::now() stands still except when advanced: explicitly with
// `co_await time::advance(d)`, or automatically when the runtime has nothing to run and
// no blocking work is in flight (the clock then jumps to the next timer's deadline).
// So a test that sleeps an hour finishes in microseconds, and its timings are exact.
// Pausing is supported on the current_thread runtime only (as in Tokio).
#pragma once

#include "rill/task.hpp"
#include "rill/time/instant.hpp"
#include "rill/runtime/yield_now.hpp"

namespace rill::time {

namespace detail {
void advance_clock(duration d);
}

/// Pauses the clock of the current (current_thread) runtime. Throws std::logic_error
/// outside such a runtime or when time is not enabled.
void pause();
/// Resumes real time. The clock continues from the paused instant (it never goes
/// back): it then runs at real speed, offset by however far the paused clock had moved.
void resume();

/// Moves the paused clock forward by `d`, fires the timers that became due, and yields
/// once so the tasks they woke can run.
inline task<void> advance(duration d) {
    detail::advance_clock(d);
    co_await rill::yield_now();
}

}  // namespace rill::time
