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

/// A task handed to a scheduler after it closed (runtime shutdown), with the queue ref
/// the caller moved in (a wake or a requeue set NOTIFIED and passed its ref on; a spawn
/// passes the queue's ref). Nothing runs any more, so the ref is dropped here; what
/// becomes of the task depends on where shutdown finds it:
///   - BOUND (it has waited, so it is in the owned list, or the owned-list walk holds it
///     right now): the walk destroys it on the dropping thread, inside the runtime's
///     context, before ~runtime returns. Destroying it here instead would run its frame's
///     destructors on whatever thread woke it (a plain thread, a signal dispatcher,
///     another runtime's worker) with no runtime context, and would let ~runtime return
///     while they still ran. So only the ref is dropped: the list's ref keeps the cell
///     alive until the walk reaches it. If the walk has already destroyed it (between
///     the waker's transition and this call), the frame is gone and this may be the last
///     ref: it frees the bare cell, which any thread may do.
///   - not BOUND: a spawn made during shutdown (a queued or running task that has not
///     waited is never handed to schedule_fn from outside: it is not idle). Nothing
///     will ever reach it, so it is cancelled here, on the spawning thread, at once.
/// BOUND is set by the runner before the transition to idle, and the caller's transition
/// out of idle read that value, so the relaxed load in bound() sees it.
inline void drop_after_close(header* h) noexcept {
    if (!h->bound()) shutdown_task(h);
    ref_dec(h);
}

/// Queues `h` on `q` from a thread outside the scheduler's workers (a plain thread, a
/// blocking thread, a destructor at shutdown) and calls `wake` to get it run. Once `h`
/// is pushed, shutdown may drain it and free it, and with it the runtime's last
/// reference, so the runtime is held until the wake is done; a closed queue means the
/// runtime shut down meanwhile, and `h` is dropped as drop_after_close says. Nothing of
/// the scheduler may be touched after this returns.
template <class Wake>
void push_from_outside(runtime_inner& rt, inject_queue& q, header* h, Wake&& wake) noexcept {
    runtime_inner_ref(&rt);
    if (q.push(h)) {
        wake();
    } else {
        drop_after_close(h);
    }
    runtime_inner_unref(&rt);  // may destroy the scheduler
}

}  // namespace rill::detail
