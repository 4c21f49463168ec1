// The one waiter queue behind semaphore, mutex and rwlock (Tokio's batch semaphore).
//
// Design block.
//
// State word `state_` (atomic size_t):
//   bit 0 CLOSED    close() was called; acquires fail (permits held stay valid)
//   bit 1 WAITERS   the waiter queue is non-empty (set and cleared only under lock_)
//   bits 2..        permits available to a fast acquire
//
// Invariant: while WAITERS is set, the permit field is 0. Every permit that comes back
// while somebody waits goes to the head of the queue (which keeps a partial grant until
// its request is complete), and only when the queue becomes empty does the rest go back
// into the word, clearing WAITERS in the same atomic add. So:
//   - an uncontended acquire is one CAS on the word, a release with nobody waiting one
//     CAS, neither touches the lock;
//   - a fast acquire can never overtake a queued waiter (the field is 0 then): strict
//     FIFO, a large request at the head is not starved by small ones behind it;
//   - a release that sees WAITERS takes the lock once, moves the permits to the head
//     waiter(s), marks them granted, and wakes them after unlocking. The woken task
//     owns its permits when it resumes: it does not take the lock again.
//
// Who owns what: a sem_waiter lives in an awaiter (a coroutine frame). Its links,
// `needed_` and `waker_` are guarded by lock_ while it is queued; `state_` is written
// under lock_ and read by the owner when it resumes (acquire) or under lock_ when it is
// destroyed. A waiter that is granted or closed is unlinked by whoever decided it.
//
// Close protocol (close() may have to wake more waiters than one wake batch holds, so it
// relocks between batches; everything that decides who fails happens before the first):
//   1. under lock_, in one step: set CLOSED and clear WAITERS in the word, and move the
//      whole queue to the closing list (closing_head_). From then on no acquire queues
//      (acquire_or_enqueue sees CLOSED), a release finds no WAITERS and puts its permits
//      into the word, so nobody can grant a permit to a waiter that close() must fail;
//   2. in batches under lock_: unlink from the closing list, add the partial grant to the
//      word, mark the waiter closed, take its waker; wake the batch after unlocking.
// Under lock_, CLOSED set means "a waiter still marked queued is on the closing list".
//
// Cancellation (the awaiter's destructor, see acquire_op::cancel):
//   1. queued: unlink under the lock (from the queue, or from the closing list once
//      CLOSED is set); the permits it was partially granted are released (they go on to
//      the next waiters, or back into the word); its waker ref is dropped;
//   2. granted but not resumed: it holds all its permits, and releases them;
//   3. closed: nothing to give back (close() returned its partial grant when it failed it).
// Wakes are always done after lock_ is released, in batches of wake_batch, so a waker
// never runs user code or the scheduler under the semaphore's lock.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "rill/detail/context.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/detail/spin_lock.hpp"
#include "rill/detail/waiter.hpp"
#include "rill/sync/acquire_error.hpp"
#include "rill/task.hpp"

namespace rill::detail {

using spin_mutex = spin_lock;

/// One queued acquire (intrusive; lives in the awaiter).
struct sem_waiter {
    enum : std::uint8_t { idle, queued, granted, closed };
    sem_waiter* prev_ = nullptr;
    sem_waiter* next_ = nullptr;
    wake_node* waker_ = nullptr;  // counted registration, guarded by the semaphore's lock
    std::size_t needed_ = 0;      // permits still missing (guarded by the lock)
    std::size_t requested_ = 0;   // the whole request (set when queued)
    std::atomic<std::uint8_t> state_{idle};
};

enum class acquire_status : std::uint8_t { acquired, no_permits, closed };

class batch_semaphore {
public:
    /// The most permits one semaphore can hold (as Tokio's usize::MAX >> 3).
    static constexpr std::size_t max_permits = std::numeric_limits<std::size_t>::max() >> 3;

    /// Throws std::invalid_argument above max_permits.
    explicit batch_semaphore(std::size_t permits);
    batch_semaphore(const batch_semaphore&) = delete;
    batch_semaphore& operator=(const batch_semaphore&) = delete;
    ~batch_semaphore();

    /// Takes `n` permits without waiting: one CAS. Fails while anybody is queued.
    /// Acquire loads: a caller told `closed` reads what the closer published before
    /// close() (once_cell's value) without taking the lock.
    acquire_status try_acquire(std::size_t n) noexcept {
        std::size_t cur = state_.load(std::memory_order_acquire);
        for (;;) {
            if (cur & closed_bit) return acquire_status::closed;
            if ((cur >> shift) < n) return acquire_status::no_permits;
            if (state_.compare_exchange_weak(cur, cur - (n << shift), std::memory_order_acquire,
                                             std::memory_order_acquire))
                return acquire_status::acquired;
        }
    }

    /// Gives `n` permits back: one CAS when nobody waits, else hands them to the queue.
    void release(std::size_t n) noexcept {
        if (n == 0) return;
        std::size_t cur = state_.load(std::memory_order_relaxed);
        while (!(cur & waiters_bit)) {
            if (state_.compare_exchange_weak(cur, cur + (n << shift), std::memory_order_release,
                                             std::memory_order_relaxed))
                return;
        }
        release_slow(n);
    }

    /// Adds permits (checked): throws std::overflow_error beyond max_permits.
    void add_permits(std::size_t n);
    /// Removes up to `n` available permits; returns how many were removed.
    std::size_t forget_permits(std::size_t n) noexcept;
    std::size_t available() const noexcept { return state_.load(std::memory_order_acquire) >> shift; }
    bool is_closed() const noexcept { return state_.load(std::memory_order_acquire) & closed_bit; }
    /// Closes: every waiter queued when it is called wakes up to `closed` (none of them
    /// is granted afterwards), partial grants return to the word, later acquires fail.
    void close() noexcept;

    /// Slow path of an acquire: under the lock, takes what is available and, unless that
    /// completes the request, queues `w` with `node` (a registration ref is taken then).
    acquire_status acquire_or_enqueue(sem_waiter* w, std::size_t n, wake_node* node) noexcept;
    /// Withdraws `w` (its awaiter is being destroyed). See the design block.
    void cancel(sem_waiter* w, std::size_t requested) noexcept;

private:
    static constexpr std::size_t closed_bit = 1;
    static constexpr std::size_t waiters_bit = 2;
    static constexpr unsigned shift = 2;

    void release_slow(std::size_t n) noexcept;
    void push_back(sem_waiter* w) noexcept;
    void unlink(sem_waiter* w) noexcept;

    std::atomic<std::size_t> state_;
    spin_mutex lock_;
    sem_waiter* head_ = nullptr;  // guarded by lock_
    sem_waiter* tail_ = nullptr;
    sem_waiter* closing_head_ = nullptr;  // waiters close() has still to fail (lock_)
    sem_waiter* closing_tail_ = nullptr;
};

/// The common part of every acquire awaitable (semaphore acquire, mutex lock, rwlock
/// read/write, owned forms). The derived awaitable's await_resume calls finish() and
/// then owns `n` permits (it wraps them in its guard).
///
/// Cooperative budget: every acquire that completes without waiting consumes one unit
/// (coop_proceed). With the budget spent, the acquire takes nothing: it yields first
/// (through a small helper coroutine that awaits yield_now() and then the acquire, on
/// the same wake node), as Tokio's coop does, so a loop over an uncontended lock lets
/// its worker's other tasks run, and nobody waits for a lock held by a task that is
/// merely queued behind others (which would turn every later lock into a hand-off).
/// The helper is awaited as an rvalue: it runs on the awaiting coroutine's own node, never
/// under a relay. (Awaited by reference from a branch, it would get a relay that the
/// temporary task awaiter detaches as soon as await_suspend returns, parking the
/// helper's wake for good: the branch would never resume.) No relay is needed, since the
/// helper cannot outlive the await: this op owns it, and destroying the op destroys it.
///
/// Lifetime: whatever keeps the semaphore alive (an owned awaiter's shared_ptr) must
/// outlive the whole acquire_op, helper included; derived awaiters hold it in a base
/// declared before acquire_op (keep_alive), never in a member of their own.
class acquire_op {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    acquire_op(batch_semaphore& s, std::size_t n) noexcept : sem_(&s), n_(n) {}
    /// Only before the first await (as when returned from lock()).
    acquire_op(acquire_op&& o) noexcept : sem_(o.sem_), n_(o.n_), phase_(o.phase_) { o.phase_ = phase::done; }
    acquire_op(const acquire_op&) = delete;
    acquire_op& operator=(const acquire_op&) = delete;
    ~acquire_op() {
        if (phase_ == phase::queued || phase_ == phase::acquired) cancel();
    }

    bool await_ready() noexcept {
        if (!coop_proceed()) {
            yield_ = true;
            return false;
        }
        switch (sem_->try_acquire(n_)) {
            case acquire_status::acquired: phase_ = phase::acquired; return true;
            case acquire_status::closed: phase_ = phase::closed; return true;
            case acquire_status::no_permits: break;
        }
        return false;
    }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
        wake_node* node = node_of(h);
        if (node == nullptr) throw_not_in_task();
        if (yield_) {
            helper_ = yield_then_acquire(sem_, n_);
            return std::move(helper_).operator co_await().await_suspend(h);
        }
        node->resume_ = h;
        if (suspend(node)) return std::noop_coroutine();
        return h;
    }

protected:
    /// Completes the await: throws sync::acquire_error when the semaphore was closed; otherwise the
    /// caller now owns n_ permits.
    void finish();
    /// As finish(), but reports a closed semaphore as false instead of throwing.
    bool finish_nothrow();
    batch_semaphore* sem_;
    std::size_t n_;

private:
    enum class phase : std::uint8_t { init, queued, acquired, closed, done };
    bool suspend(wake_node* node) noexcept;
    void cancel() noexcept;

    /// The budget-spent path: yields, then acquires (its result becomes ours).
    static task<void> yield_then_acquire(batch_semaphore* s, std::size_t n);

    phase phase_ = phase::init;
    bool yield_ = false;  // the cooperative budget was spent in await_ready
    sem_waiter waiter_;
    task<void> helper_;  // set on the budget-spent path only
};

/// Holds what keeps an owned awaiter's lock alive. Derived awaiters list it as a base
/// *before* acquire_op, so it is constructed first and destroyed last: the acquire_op's
/// destructor (which withdraws from the semaphore inside the lock) runs while the lock
/// still exists, even when this is its last reference.
template <class Ptr>
struct keep_alive {
    Ptr keep_;
};

}  // namespace rill::detail
