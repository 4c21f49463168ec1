// Chapter: an interval as a stream.
//
// stream::interval_stream(period) yields the instant of each tick, forever (the first
// at once); `| stream::take(5)` stops it after five.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>

#include <rill/rill.hpp>

namespace chapters::stream_interval {

using namespace std::chrono_literals;

inline rill::task<void> async_main() {
    const auto start = rill::time::instant::now();
    auto ticks = rill::stream::interval_stream(1s) | rill::stream::take(5);
    int n = 0;
    for (;;) {
        std::optional<rill::time::instant> t = co_await ticks.next();
        if (!t) break;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*t - start);
        std::printf("tick %d at %lld ms\n", ++n, static_cast<long long>(ms.count()));
    }
    std::printf("stopped after %d ticks\n", n);
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::stream_interval
