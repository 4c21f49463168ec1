// Chapter: spawn and await.
//
// rill::spawn hands a task to the runtime, which starts it at once on some worker,
// concurrently with the caller; the join handle gives its result when awaited
// (Tokio's `tokio::spawn(...).await`). Here the computation takes 1 s (a sleep on the
// paused clock), and the caller does its own work meanwhile.
#pragma once

#include <chrono>
#include <cstdio>

#include <rill/rill.hpp>

namespace chapters::spawn_compute {

using namespace std::chrono_literals;

inline rill::task<int> expensive_computation() {
    co_await rill::time::sleep(1s);
    co_return 42;
}

inline rill::task<void> async_main() {
    const auto start = rill::time::instant::now();
    rill::join_handle<int> handle = rill::spawn(expensive_computation());
    std::printf("spawned; doing other work meanwhile\n");
    const int result = co_await handle;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rill::time::instant::now() - start);
    std::printf("result = %d after %lld ms\n", result, static_cast<long long>(ms.count()));
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::spawn_compute
