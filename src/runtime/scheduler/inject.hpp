// The global inject queue: tasks scheduled from outside a worker, and overflow from the
// local rings. A mutex and an intrusive FIFO through header::queue_next_; `len_` lets
// workers check for work without taking the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "rill/detail/cells.hpp"
#include "rill/detail/task_header.hpp"
#include "runtime/runtime_inner.hpp"

namespace rill::detail {

class inject_queue {
public:
    /// Pushes `h`. False, and nothing pushed, once the queue is closed: shutdown closes it
    /// before its last drain, so nothing can be left behind in it.
    bool push(header* h) noexcept {
        h->queue_next_ = nullptr;
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        link(h, h, 1);
        return true;
    }
    /// Makes every later push fail (shutdown).
    void close() noexcept {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    /// Pushes a linked batch first..last (linked through queue_next_).
    void push_batch(header* first, header* last, std::size_t n) noexcept {
        last->queue_next_ = nullptr;
        std::lock_guard lock(mutex_);
        link(first, last, n);
    }
    header* pop() noexcept {
        if (len_.load(std::memory_order_acquire) == 0) return nullptr;
        std::lock_guard lock(mutex_);
        header* h = head_;
        if (h == nullptr) return nullptr;
        head_ = h->queue_next_;
        if (head_ == nullptr) tail_ = nullptr;
        len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
        h->queue_next_ = nullptr;
        return h;
    }
    bool empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
    std::size_t size() const noexcept { return len_.load(std::memory_order_relaxed); }

private:
    void link(header* first, header* last, std::size_t n) noexcept {
        if (tail_) {
            tail_->queue_next_ = first;
        } else {
            head_ = first;
        }
        tail_ = last;
        len_.store(len_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }
    alignas(64) std::mutex mutex_;
    header* head_ = nullptr;
    header* tail_ = nullptr;
    bool closed_ = false;  // guarded by mutex_
    alignas(64) std::atomic<std::size_t> len_{0};  // polled by idle workers: own line
};

/// Queues `h` on `q` from a thread outside the scheduler's workers (a plain thread, a
/// blocking thread, a destructor at shutdown) and calls `wake` to get it run. Once `h`
/// is pushed, shutdown may drain it and free it, and with it the runtime's last
/// reference, so the runtime is held until the wake is done; a closed queue means the
/// runtime shut down meanwhile, and `h` is cancelled here. Nothing of the scheduler may
/// be touched after this returns.
template <class Wake>
void push_from_outside(runtime_inner& rt, inject_queue& q, header* h, Wake&& wake) noexcept {
    runtime_inner_ref(&rt);
    if (q.push(h)) {
        wake();
    } else {
        shutdown_task(h);
        ref_dec(h);
    }
    runtime_inner_unref(&rt);  // may destroy the scheduler
}

}  // namespace rill::detail
