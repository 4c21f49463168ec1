// Chapter: join_all — a whole collection of futures.
//
// rill::future::join_all(range) awaits every awaitable of a range concurrently and
// returns their results in input order, whatever order they finish in.
#pragma once

#include <chrono>
#include <cstdio>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::join_all_calls {

using namespace std::chrono_literals;

inline rill::task<int> delayed_call(int id, rill::time::duration d) {
    co_await rill::time::sleep(d);
    std::printf("call %d done\n", id);
    co_return id * 10;
}

inline rill::task<void> async_main() {
    const auto start = rill::time::instant::now();
    std::vector<rill::task<int>> calls;
    calls.push_back(delayed_call(1, 300ms));
    calls.push_back(delayed_call(2, 100ms));
    calls.push_back(delayed_call(3, 200ms));
    std::vector<int> results = co_await rill::future::join_all(std::move(calls));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rill::time::instant::now() - start);
    std::printf("results: [%d, %d, %d] after %lld ms\n", results[0], results[1], results[2],
                static_cast<long long>(ms.count()));
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::join_all_calls
