// Chapter: futures_unordered — results as they finish.
//
// rill::future::futures_unordered<T> is a set you push awaitables into;
// `co_await set.next()` gives the next result in completion order, std::nullopt when
// the set is empty. Each wake costs O(1), however many members the set has.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>

#include <rill/rill.hpp>

namespace chapters::unordered_results {

using namespace std::chrono_literals;

inline rill::task<int> job(int id, rill::time::duration d) {
    co_await rill::time::sleep(d);
    co_return id;
}

inline rill::task<void> async_main() {
    rill::future::futures_unordered<int> set;
    set.push(job(1, 300ms));
    set.push(job(2, 100ms));
    set.push(job(3, 200ms));
    const auto start = rill::time::instant::now();
    for (;;) {
        std::optional<int> id = co_await set.next();
        if (!id) break;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rill::time::instant::now() - start);
        std::printf("job %d finished at %lld ms\n", *id, static_cast<long long>(ms.count()));
    }
    std::printf("all jobs finished\n");
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::unordered_results
