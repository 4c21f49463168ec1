// Internals shared by rill's channels (mpsc, broadcast, watch): a small lock for very
// short critical sections, a fixed batch of wakers to fire after unlocking, and the
// cooperative-budget yield (DESIGN §5).
//
// chan_lock: the spin_lock of detail/spin_lock.hpp (shared with the batch semaphore). Only
// ever held for a few stores (never across a wake, a user callback other than a move of
// T, or an allocation other than a queue's growth).
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>

#include "rill/detail/context.hpp"
#include "rill/detail/intrusive_list.hpp"
#include "rill/detail/spin_lock.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::detail {

using chan_lock = spin_lock;  // include/rill/detail/spin_lock.hpp

/// Counted wake nodes collected under a lock, woken after it is released.
class chan_wakes {
public:
    static constexpr std::size_t capacity = 16;
    chan_wakes() = default;
    chan_wakes(const chan_wakes&) = delete;
    chan_wakes& operator=(const chan_wakes&) = delete;
    ~chan_wakes() { wake_all(); }

    bool full() const noexcept { return n_ + 2 > capacity; }  // room for a pair left?
    /// Collects `n` (null: nothing). When full it wakes what it holds at once, under the
    /// caller's lock (allowed: waking never takes a channel lock); callers that can
    /// unlock first check full() and wake_all() themselves.
    void push(wake_node* n) noexcept {
        if (n == nullptr) return;
        if (n_ == capacity) wake_all();
        nodes_[n_++] = n;
    }
    /// Wakes (consuming the registration refs of) everything collected so far.
    void wake_all() noexcept {
        for (std::size_t i = 0; i < n_; ++i) wake_by_value(nodes_[i]);
        n_ = 0;
    }

private:
    std::array<wake_node*, capacity> nodes_{};
    std::size_t n_ = 0;
};

/// A waiter in a waiter_list: lives in an awaiter, linked while `queued`.
struct list_waiter {
    list_waiter* prev = nullptr;
    list_waiter* next = nullptr;
    wake_node* waker = nullptr;  // counted while queued
    bool queued = false;
};

/// An intrusive FIFO of waiters, guarded by its owner's lock.
class waiter_list {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    void push_back(list_waiter* w, wake_node* waker) noexcept {
        w->waker = waker;
        w->queued = true;
        list_push_back<&list_waiter::prev, &list_waiter::next>(head_, tail_, w);
    }
    /// Unlinks `w` if queued; returns its waker (the caller drops it).
    wake_node* remove(list_waiter* w) noexcept {
        if (!w->queued) return nullptr;
        list_unlink<&list_waiter::prev, &list_waiter::next>(head_, tail_, w);
        w->queued = false;
        wake_node* n = w->waker;
        w->waker = nullptr;
        return n;
    }
    /// Unlinks every waiter, collecting their wakers into `wakes`.
    void take_all(chan_wakes& wakes) noexcept {
        while (head_ != nullptr) wakes.push(remove(head_));
    }

private:
    list_waiter* head_ = nullptr;
    list_waiter* tail_ = nullptr;
};

/// Suspends the coroutine `h` for one trip through its worker's run queue (the
/// cooperative budget ran out): marks its node woken, as yield_now does.
void coop_yield_node(wake_node* n) noexcept;

template <class P>
void coop_yield(std::coroutine_handle<P> h) {
    wake_node* n = node_of(h);
    if (n == nullptr) throw_not_in_task();
    n->resume_ = h;
    coop_yield_node(n);
}

}  // namespace rill::detail
