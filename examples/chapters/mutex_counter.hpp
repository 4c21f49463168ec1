// Chapter: shared state behind an async mutex.
//
// Several tasks update one value. rill::sync::mutex<T> owns the value; lock() waits
// (suspending the task, not blocking the worker) and gives a guard through which the
// value is reached; the guard unlocks when it goes out of scope. Tasks get the lock in
// the order they asked for it (FIFO), and the guard may be held across co_await.
#pragma once

#include <cstdio>
#include <memory>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::mutex_counter {

struct app_state {
    int counter = 0;
    std::vector<int> visitors;
};

// Each task takes the lock, bumps the counter and records itself. The mutex is shared
// through a std::shared_ptr because the tasks may outlive the scope that spawned them.
inline rill::task<void> visit(std::shared_ptr<rill::sync::mutex<app_state>> state, int id) {
    auto guard = co_await state->lock();
    guard->counter += 1;
    guard->visitors.push_back(id);
}  // unlocked here

inline rill::task<void> async_main() {
    auto state = std::make_shared<rill::sync::mutex<app_state>>();
    std::vector<rill::join_handle<void>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(rill::spawn(visit(state, i)));
    for (auto& t : tasks) co_await t;

    auto guard = co_await state->lock();
    std::printf("10 tasks incremented the counter under rill::sync::mutex<app_state>\n");
    std::printf("final count: %d (visits recorded: %zu)\n", guard->counter, guard->visitors.size());
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::mutex_counter
