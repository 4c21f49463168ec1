// Chapter 5: blocking work.
//
// A task must not block its worker: while it sits in a blocking call (a sleep, a
// blocking read, a long CPU loop) no other task can run on that thread. Work like
// that goes to rill::spawn_blocking(f), which runs the callable f on the runtime's
// blocking pool, a separate set of threads, and returns a join_handle for f's result.
//
// To make the point visible this chapter uses a runtime with a single worker thread:
// if the blocking job ran on it, the ticker task below could not run at all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include <rill/rill.hpp>

namespace chapters::spawn_blocking {

struct job_result {
    std::uint64_t value;
    std::thread::id ran_on;
};

// Blocking code, as you would find it in a C library or a synchronous API: it sleeps
// (think: a blocking read) and then burns CPU.
inline job_result blocking_job(std::uint64_t n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::uint64_t sum_of_squares = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum_of_squares += i * i;
    return {sum_of_squares, std::this_thread::get_id()};
}

// An ordinary async task that keeps doing small steps until told to stop.
inline rill::task<std::uint64_t> ticker(const std::atomic<bool>& stop) {
    std::uint64_t ticks = 0;
    while (!stop.load(std::memory_order_acquire)) {
        ++ticks;
        co_await rill::yield_now();  // let the worker run whatever else is ready
    }
    co_return ticks;
}

inline rill::task<void> async_main() {
    const std::thread::id worker = std::this_thread::get_id();
    std::atomic<bool> stop{false};  // in this frame, which outlives the ticker

    rill::join_handle<std::uint64_t> tick = rill::spawn(ticker(stop));
    // Any callable will do; a lambda may capture (it is not a coroutine).
    std::uint64_t n = 1'000'000;
    rill::join_handle<job_result> job = rill::spawn_blocking([n] { return blocking_job(n); });
    std::printf("blocking job submitted to the blocking pool\n");

    const job_result r = co_await job;  // suspends this task; the worker stays free
    stop.store(true, std::memory_order_release);
    const std::uint64_t ticks = co_await tick;

    std::printf("sum of i*i for i < 1000000 = %llu\n", static_cast<unsigned long long>(r.value));
    std::printf("the job ran off the worker thread: %s\n", r.ran_on != worker ? "yes" : "no");
    std::printf("the ticker kept running meanwhile: %s\n", ticks > 0 ? "yes" : "no");
}

inline int run() {
    return rill::run(rill::builder::new_multi_thread().worker_threads(1).enable_all(), async_main());
}

}  // namespace chapters::spawn_blocking
