// Runs two pieces of code at the same time, many rounds in a row, without creating a
// thread per round: a helper thread waits for each round's start signal, runs its part
// while the caller runs its own, and reports when it is done.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>

namespace rill_test {

class racer {
public:
    /// `theirs(round)` runs on the helper thread in every round.
    explicit racer(std::function<void(std::uint64_t)> theirs)
        : theirs_(std::move(theirs)), thread_([this] { loop(); }) {}
    racer(const racer&) = delete;
    racer& operator=(const racer&) = delete;
    ~racer() {
        stop_.store(true, std::memory_order_release);
        thread_.join();
    }

    /// Starts a round: the helper runs its part while the caller runs `mine(round)`;
    /// returns when both are done.
    template <class F>
    void round(F&& mine) {
        const std::uint64_t r = ++round_;
        go_.store(r, std::memory_order_release);
        std::forward<F>(mine)(r);
        while (done_.load(std::memory_order_acquire) < r) std::this_thread::yield();
    }

private:
    void loop() {
        for (std::uint64_t r = 1;; ++r) {
            while (go_.load(std::memory_order_acquire) < r) {
                if (stop_.load(std::memory_order_acquire)) return;
                std::this_thread::yield();
            }
            theirs_(r);
            done_.store(r, std::memory_order_release);
        }
    }

    std::function<void(std::uint64_t)> theirs_;
    std::uint64_t round_ = 0;
    std::atomic<std::uint64_t> go_{0};
    std::atomic<std::uint64_t> done_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace rill_test
