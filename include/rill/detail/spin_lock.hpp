// The lock of a waiter queue or channel: critical sections are a few pointer moves, so a
// test-and-test-and-set lock beats a futex mutex (one exchange to lock, one store to
// unlock); a waiter that spins too long yields its thread, in case the holder was
// preempted. Used by the batch semaphore and the mpsc channel.
#pragma once

#include <atomic>

namespace rill::detail {

class spin_lock {
public:
    void lock() noexcept {
        if (!locked_.exchange(true, std::memory_order_acquire)) return;
        lock_slow();
    }
    bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    void lock_slow() noexcept;  // src/sync/spin_lock.cpp
    std::atomic<bool> locked_{false};
};

}  // namespace rill::detail
