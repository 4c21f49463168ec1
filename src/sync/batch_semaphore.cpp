// The batch semaphore (see include/rill/detail/batch_semaphore.hpp for the design block).
#include "rill/detail/batch_semaphore.hpp"
#include "rill/detail/intrusive_list.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "rill/runtime/yield_now.hpp"

namespace rill::detail {

namespace {

// Wakers collected under the lock and woken after it is released, at most `cap` at a
// time (a release of many permits, close(), may wake more: the caller relocks).
class wake_batch {
public:
    static constexpr std::size_t cap = 32;
    wake_batch() = default;
    wake_batch(const wake_batch&) = delete;
    wake_batch& operator=(const wake_batch&) = delete;
    ~wake_batch() { wake_all(); }
    bool full() const noexcept { return n_ == cap; }
    void push(wake_node* w) noexcept {
        if (w != nullptr) nodes_[n_++] = w;
    }
    void wake_all() noexcept {
        for (std::size_t i = 0; i < n_; ++i) wake_by_value(nodes_[i]);
        n_ = 0;
    }

private:
    wake_node* nodes_[cap];
    std::size_t n_ = 0;
};

}  // namespace

batch_semaphore::batch_semaphore(std::size_t permits) : state_(0) {
    if (permits > max_permits) throw std::invalid_argument("semaphore: more than max_permits permits");
    state_.store(permits << shift, std::memory_order_relaxed);
}

batch_semaphore::~batch_semaphore() = default;

void batch_semaphore::push_back(sem_waiter* w) noexcept {
    list_push_back<&sem_waiter::prev_, &sem_waiter::next_>(head_, tail_, w);
}

void batch_semaphore::unlink(sem_waiter* w) noexcept {
    list_unlink<&sem_waiter::prev_, &sem_waiter::next_>(head_, tail_, w);
}

void batch_semaphore::release_slow(std::size_t n) noexcept {
    wake_batch wakes;
    std::unique_lock lk(lock_);
    for (;;) {
        if (!(state_.load(std::memory_order_relaxed) & waiters_bit)) {
            // The queue emptied between our look at the word and the lock.
            state_.fetch_add(n << shift, std::memory_order_release);
            break;
        }
        // WAITERS is set, so the field is 0: everything goes to the queue, head first.
        while (n > 0 && head_ != nullptr && !wakes.full()) {
            sem_waiter* w = head_;
            const std::size_t take = std::min(n, w->needed_);
            w->needed_ -= take;
            n -= take;
            if (w->needed_ == 0) {
                unlink(w);
                wakes.push(std::exchange(w->waker_, nullptr));
                w->state_.store(sem_waiter::granted, std::memory_order_release);
            }
        }
        if (head_ == nullptr) {
            // Nobody waits any more: the rest goes back into the word and WAITERS is
            // cleared in the same add (the bit is set, so subtracting it clears it).
            state_.fetch_add((n << shift) - waiters_bit, std::memory_order_release);
            break;
        }
        if (n == 0) break;
        lk.unlock();
        wakes.wake_all();
        lk.lock();
    }
    lk.unlock();
    wakes.wake_all();
}

void batch_semaphore::add_permits(std::size_t n) {
    if (n > max_permits || available() > max_permits - n)
        throw std::overflow_error("semaphore: add_permits beyond max_permits");
    release(n);
}

std::size_t batch_semaphore::forget_permits(std::size_t n) noexcept {
    std::size_t cur = state_.load(std::memory_order_relaxed);
    for (;;) {
        const std::size_t take = std::min(n, cur >> shift);
        if (take == 0) return 0;
        if (state_.compare_exchange_weak(cur, cur - (take << shift), std::memory_order_acq_rel,
                                         std::memory_order_relaxed))
            return take;
    }
}

void batch_semaphore::close() noexcept {
    wake_batch wakes;
    std::unique_lock lk(lock_);
    // Step 1 (see the design block): CLOSED on, WAITERS off and the queue moved to the
    // closing list, in one critical section. WAITERS was set, so the permit field is 0.
    std::size_t cur = state_.load(std::memory_order_relaxed);
    while (!state_.compare_exchange_weak(cur, (cur | closed_bit) & ~waiters_bit, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
    }
    if (head_ != nullptr) {
        if (closing_tail_ != nullptr) {  // an earlier close() is still draining
            closing_tail_->next_ = head_;
            head_->prev_ = closing_tail_;
        } else {
            closing_head_ = head_;
        }
        closing_tail_ = tail_;
        head_ = tail_ = nullptr;
    }
    // Step 2: fail them in batches; nobody can grant them anything meanwhile.
    for (;;) {
        std::size_t give_back = 0;
        while (closing_head_ != nullptr && !wakes.full()) {
            sem_waiter* w = closing_head_;
            list_unlink<&sem_waiter::prev_, &sem_waiter::next_>(closing_head_, closing_tail_, w);
            give_back += w->requested_ - w->needed_;  // a partial grant returns to the word
            w->needed_ = w->requested_;
            wakes.push(std::exchange(w->waker_, nullptr));
            w->state_.store(sem_waiter::closed, std::memory_order_release);
        }
        if (give_back != 0) state_.fetch_add(give_back << shift, std::memory_order_release);
        if (closing_head_ == nullptr) break;
        lk.unlock();
        wakes.wake_all();
        lk.lock();
    }
    lk.unlock();
    wakes.wake_all();
}

acquire_status batch_semaphore::acquire_or_enqueue(sem_waiter* w, std::size_t n, wake_node* node) noexcept {
    std::lock_guard lk(lock_);
    std::size_t cur = state_.load(std::memory_order_relaxed);
    for (;;) {
        if (cur & closed_bit) return acquire_status::closed;
        if (cur & waiters_bit) {  // others wait: the field is 0, queue behind them
            w->needed_ = n;
            break;
        }
        const std::size_t avail = cur >> shift;
        if (avail >= n) {
            if (state_.compare_exchange_weak(cur, cur - (n << shift), std::memory_order_acquire,
                                             std::memory_order_relaxed))
                return acquire_status::acquired;
            continue;
        }
        // Take what there is (a partial grant we keep while queued) and set WAITERS.
        if (state_.compare_exchange_weak(cur, (cur & closed_bit) | waiters_bit, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
            w->needed_ = n - avail;
            break;
        }
    }
    w->requested_ = n;
    push_back(w);
    node_acquire(node);
    w->waker_ = node;
    w->state_.store(sem_waiter::queued, std::memory_order_relaxed);
    return acquire_status::no_permits;
}

void batch_semaphore::cancel(sem_waiter* w, std::size_t requested) noexcept {
    std::size_t give_back = 0;
    wake_node* mine = nullptr;
    {
        std::lock_guard lk(lock_);
        switch (w->state_.load(std::memory_order_relaxed)) {
            case sem_waiter::queued:
                give_back = requested - w->needed_;
                mine = std::exchange(w->waker_, nullptr);
                if (state_.load(std::memory_order_relaxed) & closed_bit) {
                    // close() moved it to the closing list and has not failed it yet;
                    // WAITERS is off, so the release below puts the grant in the word.
                    list_unlink<&sem_waiter::prev_, &sem_waiter::next_>(closing_head_, closing_tail_, w);
                    break;
                }
                unlink(w);
                if (head_ == nullptr) {
                    // Last waiter gone: WAITERS off, and the partial grant straight back.
                    state_.fetch_add((give_back << shift) - waiters_bit, std::memory_order_release);
                    give_back = 0;
                }
                break;
            case sem_waiter::granted:  // chosen but never resumed: pass the permits on
                give_back = requested;
                break;
            default:
                break;
        }
        w->state_.store(sem_waiter::idle, std::memory_order_relaxed);
    }
    drop_node(mine);
    release(give_back);
}

bool acquire_op::suspend(wake_node* node) noexcept {
    switch (sem_->acquire_or_enqueue(&waiter_, n_, node)) {
        case acquire_status::acquired: phase_ = phase::acquired; return false;
        case acquire_status::closed: phase_ = phase::closed; return false;
        case acquire_status::no_permits: phase_ = phase::queued; return true;
    }
    return false;
}

task<void> acquire_op::yield_then_acquire(batch_semaphore* s, std::size_t n) {
    struct op : acquire_op {
        using acquire_op::acquire_op;
        void await_resume() { finish(); }
    };
    co_await yield_now();
    co_await op(*s, n);
}

bool acquire_op::finish_nothrow() {
    if (helper_) {
        // The budget-spent path: the helper acquired for us (or failed: closed).
        task<void> h = std::move(helper_);
        phase_ = phase::done;
        try {
            std::move(h).operator co_await().await_resume();
        } catch (const sync::acquire_error&) {
            return false;
        }
        return true;
    }
    if (phase_ == phase::queued) {
        switch (waiter_.state_.load(std::memory_order_acquire)) {
            case sem_waiter::granted: phase_ = phase::acquired; break;
            case sem_waiter::closed: phase_ = phase::closed; break;
            default: throw std::logic_error("rill::sync: an acquire resumed before it was granted");
        }
    }
    const bool ok = phase_ == phase::acquired;
    phase_ = phase::done;
    return ok;
}

void acquire_op::finish() {
    if (!finish_nothrow()) throw sync::acquire_error();
}

void acquire_op::cancel() noexcept {
    if (phase_ == phase::queued) {
        sem_->cancel(&waiter_, n_);
    } else if (phase_ == phase::acquired) {
        sem_->release(n_);
    }
    phase_ = phase::done;
}

}  // namespace rill::detail
