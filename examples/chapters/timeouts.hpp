// Chapter 9: time — sleeps, timeouts, and Delay on the real timer.
//
// rill::time::sleep(d) is a timer in the runtime's timer wheel: no thread per sleep,
// no allocation. timeout(d, awaitable) races an awaitable against a timer inside the
// same task; when the timer wins, the awaitable is destroyed (cancelled) and
// rill::time::elapsed is thrown — here turned into the caller's own error, as the
// guide's resilient_fetch does.
//
// This chapter runs on a runtime whose clock starts paused: time only moves when every
// task is waiting, and then jumps straight to the next deadline. The timings printed
// are exact, and the chapter takes no real time at all.
#pragma once

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <rill/rill.hpp>

namespace chapters::timeouts {

using namespace std::chrono_literals;
using rill::time::instant;

/// The caller's own error type for a request that took too long.
struct fetch_timeout : std::runtime_error {
    explicit fetch_timeout(const std::string& what) : std::runtime_error(what) {}
};

/// Pretends to fetch `url`, taking `latency`.
inline rill::task<std::string> fetch(std::string url, rill::time::duration latency) {
    co_await rill::time::sleep(latency);
    co_return "contents of " + url;
}

/// fetch with a deadline: the slow call is cancelled and reported as fetch_timeout.
inline rill::task<std::string> resilient_fetch(std::string url, rill::time::duration latency) {
    try {
        co_return co_await rill::time::timeout(500ms, fetch(url, latency));
    } catch (const rill::time::elapsed&) {
        throw fetch_timeout("fetching " + url + " took longer than 500 ms");
    }
}

/// The guide's Delay again, now on the timer wheel: a coroutine instead of a thread.
inline rill::task<const char*> delay(instant when) {
    co_await rill::time::sleep_until(when);
    co_return "done";
}

inline long ms_since(instant start) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
}

inline rill::task<void> async_main() {
    const instant start = instant::now();

    std::string page = co_await resilient_fetch("https://fast.example", 120ms);
    std::printf("[t=%ld ms] got: %s\n", ms_since(start), page.c_str());

    try {
        page = co_await resilient_fetch("https://slow.example", 3s);
        std::printf("unexpected: %s\n", page.c_str());
    } catch (const fetch_timeout& e) {
        std::printf("[t=%ld ms] error: %s\n", ms_since(start), e.what());
    }

    const char* d = co_await delay(instant::now() + 100ms);
    std::printf("[t=%ld ms] Delay on the timer wheel returned: %s\n", ms_since(start), d);
}

inline int run() {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    rt.block_on(async_main());
    return 0;
}

}  // namespace chapters::timeouts
