// Chapter: pitfall 4 — unbounded concurrency, fixed.
//
// Spawning a task per item for a million items puts a million in flight at once
// (memory, sockets, a remote service's patience). for_each_concurrent(n, f) keeps at
// most n of them running: a new one starts only when one finishes. The counters show
// the maximum reached.
#pragma once

#include <cstdint>
#include <cstdio>
#include <ranges>

#include <rill/rill.hpp>

namespace chapters::bounded_concurrency {

struct counters {
    int in_flight = 0;
    int max_in_flight = 0;
    std::uint64_t done = 0;
};

inline rill::task<void> process(std::uint64_t item, counters* c) {
    ++c->in_flight;
    if (c->in_flight > c->max_in_flight) c->max_in_flight = c->in_flight;
    if (item % 3 == 0) co_await rill::yield_now();  // some items wait for something
    --c->in_flight;
    ++c->done;
}

// The callable for for_each_concurrent: a plain struct (no lambda coroutine).
struct processor {
    counters* c;
    rill::task<void> operator()(std::uint64_t item) const { return process(item, c); }
};

inline rill::task<int> async_main() {
    constexpr std::uint64_t items = 1'000'000;
    constexpr int limit = 100;
    counters c;
    co_await (rill::stream::iter(std::views::iota(std::uint64_t{0}, items))
              | rill::stream::for_each_concurrent(limit, processor{&c}));
    std::printf("processed %llu items\n", static_cast<unsigned long long>(c.done));
    std::printf("max in flight: %d (limit %d)\n", c.max_in_flight, limit);
    if (c.done != items || c.max_in_flight > limit) {
        std::printf("FAILED: the bound was not kept\n");
        co_return 1;
    }
    co_return 0;
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::bounded_concurrency
