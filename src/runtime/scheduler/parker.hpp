// Parks one thread until another unparks it: a futex through std::atomic::wait.
// An unpark that comes before the park is remembered (the next park returns at once).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rill::detail {

class parker {
public:
    void park() noexcept {
        std::uint32_t expected = notified;
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return;
        expected = empty;
        if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire)) {
            state_.store(empty, std::memory_order_release);  // was notified meanwhile
            return;
        }
        while (state_.load(std::memory_order_acquire) == parked) futex_wait(nullptr);
        state_.store(empty, std::memory_order_release);
    }

    /// Parks for at most `timeout`.
    void park_timeout(std::chrono::nanoseconds timeout) noexcept {
        std::uint32_t expected = notified;
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return;
        expected = empty;
        if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire)) {
            state_.store(empty, std::memory_order_release);
            return;
        }
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
        // One timed futex wait; a spurious return is fine (callers loop).
        if (state_.load(std::memory_order_acquire) == parked) futex_wait(&ts);
        state_.store(empty, std::memory_order_release);
    }

    /// Consumes a pending unpark without sleeping (the I/O watcher, which waits in
    /// epoll_wait instead of the futex). True if there was one.
    bool take_notified() noexcept {
        return state_.exchange(empty, std::memory_order_seq_cst) == notified;
    }

    void unpark() noexcept {
        if (state_.exchange(notified, std::memory_order_release) == parked) {
            syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
        }
    }

private:
    void futex_wait(const timespec* ts) noexcept {
        syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, parked, ts, nullptr, 0);
    }
    static constexpr std::uint32_t empty = 0, parked = 1, notified = 2;
    std::atomic<std::uint32_t> state_{empty};
};

}  // namespace rill::detail
