// Chapter 7: the current_thread runtime.
//
// builder::new_current_thread() builds a runtime without worker threads: the thread
// that calls block_on (here: main, through rill::run) runs the main task and every
// task spawned on it, switching between them at each co_await. Tasks still run
// concurrently (they interleave), but never in parallel. It is what
// #[tokio::main(flavor = "current_thread")] gives you, and what tests often use.
//
//     int main() { return rill::run(rill::builder::new_current_thread(), async_main()); }
//
// (spawn_blocking still runs its work on a blocking-pool thread.)
#pragma once

#include <cstdio>
#include <thread>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::current_thread {

// Takes a few steps, yielding between them, and reports the thread it ran on.
inline rill::task<std::thread::id> worker_task(int steps) {
    for (int i = 0; i < steps; ++i) co_await rill::yield_now();
    co_return std::this_thread::get_id();
}

inline rill::task<int> async_main(std::thread::id main_thread) {
    std::printf("async_main runs on the main thread: %s\n",
                std::this_thread::get_id() == main_thread ? "yes" : "no");

    std::vector<rill::join_handle<std::thread::id>> handles;
    for (int i = 0; i < 5; ++i) handles.push_back(rill::spawn(worker_task(i + 1)));

    int on_main = 0;
    for (auto& h : handles) {
        const std::thread::id id = co_await h;
        if (id == main_thread) ++on_main;
    }
    std::printf("%d of %zu spawned tasks ran on the main thread\n", on_main, handles.size());
    co_return on_main == 5 ? 0 : 1;
}

inline int run() {
    return rill::run(rill::builder::new_current_thread(), async_main(std::this_thread::get_id()));
}

}  // namespace chapters::current_thread
