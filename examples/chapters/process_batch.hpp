// Chapter: a batch of tasks with a join_set.
//
// rill::future::join_set<T> owns the tasks it spawns: join_next() returns their
// results as they finish, and dropping the set aborts whatever still runs, so no task
// outlives the batch that started it (structured concurrency).
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::process_batch {

using namespace std::chrono_literals;

inline rill::task<int> process_item(int item) {
    co_await rill::time::sleep(std::chrono::milliseconds(10 * (5 - item)));
    co_return item * item;
}

inline rill::task<int> process_batch(std::vector<int> items) {
    rill::future::join_set<int> set;
    for (int item : items) set.spawn(process_item(item));
    int total = 0;
    for (;;) {
        std::optional<int> r = co_await set.join_next();
        if (!r) break;
        std::printf("an item finished: %d\n", *r);
        total += *r;
    }
    co_return total;
}

inline rill::task<void> async_main() {
    std::vector<int> items{1, 2, 3, 4};
    const int total = co_await process_batch(std::move(items));
    std::printf("batch total: %d\n", total);
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::process_batch
