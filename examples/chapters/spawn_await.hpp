// Chapter 3: spawning tasks.
//
// rill::spawn(task) hands a task to the runtime, which starts it on some worker
// right away, concurrently with the caller, and returns a rill::join_handle<T>.
// `co_await handle` waits for the task and gives its value (Tokio's JoinHandle).
//
// A handle can also cancel its task: abort() destroys the task's coroutine frame at
// its next suspension point, running the destructors of everything in it. Awaiting an
// aborted task throws rill::join_error, whose is_cancelled() is true.
#pragma once

#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::spawn_await {

// Some work worth running as its own task: the sum 1 + 2 + ... + n, yielding to the
// scheduler now and then so that a long loop does not hog its worker.
inline rill::task<std::uint64_t> sum_to(std::uint64_t n) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 1; i <= n; ++i) {
        sum += i;
        if (i % 100'000 == 0) co_await rill::yield_now();
    }
    co_return sum;
}

inline rill::task<std::uint64_t> square(std::uint64_t x) { co_return x * x; }

// Prints when it is destroyed: shows that aborting a task runs its destructors.
struct print_on_destroy {
    const char* what;
    explicit print_on_destroy(const char* w) : what(w) {}
    print_on_destroy(const print_on_destroy&) = delete;
    print_on_destroy& operator=(const print_on_destroy&) = delete;
    ~print_on_destroy() { std::printf("%s\n", what); }
};

// Tells `started` that it runs, then waits on `never`, which nobody notifies.
inline rill::task<void> wait_forever(rill::sync::notify& started, rill::sync::notify& never) {
    print_on_destroy guard{"the aborted task's locals were destroyed"};
    started.notify_one();
    co_await never.notified();
    std::printf("unreachable: nobody notifies `never`\n");
}

inline rill::task<void> async_main() {
    // Spawn and await one task.
    rill::join_handle<std::uint64_t> sum = rill::spawn(sum_to(1'000'000));
    std::printf("spawned sum_to(1000000); the caller keeps going meanwhile\n");
    const std::uint64_t total = co_await sum;
    std::printf("sum_to(1000000) = %llu\n", static_cast<unsigned long long>(total));

    // Spawn several, then await each handle in order.
    std::vector<rill::join_handle<std::uint64_t>> squares;
    for (std::uint64_t i = 1; i <= 5; ++i) squares.push_back(rill::spawn(square(i)));
    std::uint64_t sum_of_squares = 0;
    for (auto& h : squares) sum_of_squares += co_await h;
    std::printf("1^2 + ... + 5^2 = %llu\n", static_cast<unsigned long long>(sum_of_squares));

    // Abort a task that would never finish on its own. The two notifies live in this
    // frame, which outlives the spawned task (we await its handle below).
    rill::sync::notify started;
    rill::sync::notify never;
    rill::join_handle<void> stuck = rill::spawn(wait_forever(started, never));
    co_await started.notified();  // the task is now suspended in never.notified()
    std::printf("aborting the stuck task\n");
    stuck.abort();
    try {
        co_await stuck;
        std::printf("unreachable: an aborted task has no value\n");
    } catch (const rill::join_error& e) {
        std::printf("awaiting it threw rill::join_error, is_cancelled() = %s\n",
                    e.is_cancelled() ? "true" : "false");
    }
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::spawn_await
