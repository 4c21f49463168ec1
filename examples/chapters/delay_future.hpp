// Chapter 2: a hand-written future.
//
// Below rill::task there is a smaller building block, the *pollable*: a type with
//
//     std::optional<T> poll(rill::context& cx);
//
// It is Rust's Future::poll. It returns the value when it is ready. When it is not,
// it returns std::nullopt, but only after arranging for `cx.waker()` to be woken once
// progress is possible; rill then polls it again (and may poll it spuriously, so poll
// always re-checks). `co_await rill::poll_fn(p)` turns a pollable into something a task
// can await.
//
// delay is the guide's Delay: ready once a deadline has passed. The first poll is too
// early, so it clones the waker and starts a thread that sleeps until the deadline and
// then wakes the task. (A real timer uses one timer thread, or the runtime's timer
// wheel, rather than a thread per delay; this is the smallest honest version.)
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <rill/rill.hpp>

namespace chapters::delay_future {

using clock = std::chrono::steady_clock;

// What a delay shares with its timer thread (in Rust: Arc<Mutex<Option<Waker>>>).
struct timer_shared {
    std::mutex mutex;
    rill::waker waker;  // a clone of the waker from the latest pending poll
};

class delay {
public:
    explicit delay(clock::time_point when) : when_(when) {}

    std::optional<const char*> poll(rill::context& cx) {
        if (clock::now() >= when_) {
            std::printf("Delay: deadline reached, ready\n");
            return "done";
        }
        std::printf("Delay: not yet, arranging a wake-up\n");
        {
            // Copying a waker clones it: the clone stays valid after poll returns, and
            // waking it from any thread schedules this task to be polled again. Keep
            // the latest one, in case this poll comes with a different waker.
            std::lock_guard lock(shared_->mutex);
            if (!shared_->waker.will_wake(cx.waker())) shared_->waker = cx.waker();
        }
        if (!timer_.joinable()) {
            timer_ = std::jthread([shared = shared_.get(), when = when_] {
                std::this_thread::sleep_until(when);
                std::lock_guard lock(shared->mutex);
                // By reference: the delay owns the waker, so it is also released by
                // the delay, on the task's side.
                shared->waker.wake_by_ref();
            });
        }
        return std::nullopt;
    }

private:
    clock::time_point when_;
    std::unique_ptr<timer_shared> shared_ = std::make_unique<timer_shared>();
    // Declared last, so destroyed first: joining the thread (which has already woken
    // us and is only returning) before shared_ is freed.
    std::jthread timer_;
};

inline rill::task<void> async_main() {
    using namespace std::chrono_literals;
    const auto start = clock::now();

    // poll_fn(delay{...}) owns the delay for as long as the await lasts.
    const char* out = co_await rill::poll_fn(delay{start + 100ms});

    const auto waited = clock::now() - start;
    std::printf("Delay returned: %s\n", out);
    std::printf("waited at least 100 ms: %s\n", waited >= 100ms ? "yes" : "no");
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::delay_future
