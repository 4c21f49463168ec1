// Chapter 10: an interval ticking five times.
//
// rill::time::interval(period) completes its first tick at once and then every period;
// tick() returns the instant the tick was scheduled for. If the task falls behind,
// missed ticks are caught up back to back (missed_tick_behavior::burst, the default),
// or the schedule is shifted (delay) or the missed ticks skipped (skip).
// Like chapter 9 this runs on a paused clock, so the times are exact.
#pragma once

#include <chrono>
#include <cstdio>

#include <rill/rill.hpp>

namespace chapters::interval {

using namespace std::chrono_literals;
using rill::time::instant;

inline rill::task<void> async_main() {
    const instant start = instant::now();
    rill::time::interval every(250ms);
    for (int i = 1; i <= 5; ++i) {
        instant scheduled = co_await every.tick();
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(scheduled - start).count();
        std::printf("tick %d at t=%lld ms\n", i, static_cast<long long>(ms));
    }
    std::printf("interval stopped after 5 ticks\n");
}

inline int run() {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    rt.block_on(async_main());
    return 0;
}

}  // namespace chapters::interval
