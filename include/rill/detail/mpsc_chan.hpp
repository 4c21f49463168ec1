// The shared state of an mpsc channel (bounded or unbounded); see rill/sync/mpsc.hpp for
// the public API and docs/design/channels.md for the reasoning.
//
// Design block
//
// Two queues, one lock. Senders append to `in_` under `lock_` (a chan_lock: one
// exchange, a push_back, one store). The receiver owns `out_` outright: it takes
// messages from it with no synchronisation at all, and when it runs dry swaps the two
// vectors under the lock, taking everything sent so far in one step. Both vectors keep
// their capacity, so a channel in steady state allocates nothing per message.
//
// Who owns what:
//   - in_, rx_waker_, the send-waiter list, permits_, reserved_, rx_closed_, tx_closed_:
//     guarded by lock_.
//   - out_, out_pos_: the receiver (one task at a time).
//   - released_: permits the receiver gave back since a sender last harvested them
//     (atomic: the receiver adds without the lock; a sender moves them into permits_
//     under the lock). has_waiters_ says that the waiter list is non-empty.
//   - tx_count_: live senders plus live permits; the last one closes the sending side.
//   - refs_: one for the receiver, one for all senders together; the last frees.
//
// Capacity (bounded): free permits = permits_ + released_. A send takes one under the
// lock (harvesting released_ only when permits_ is 0), unless senders are queued: then
// it queues too (FIFO fairness, as Tokio's semaphore). The receiver returns a permit per
// message it hands out (fetch_add on released_, seq_cst), then reads has_waiters_
// (seq_cst); a sender that queues sets has_waiters_ (seq_cst) and harvests released_ after
// it (seq_cst): one of the two sees the other (Dekker), so a permit is never stranded
// while a sender waits. Granting (grant_locked) hands permits to queued waiters in order;
// a send waiter's value is pushed on its behalf at that moment, so the message order is
// the grant order and a granted send cannot be lost by cancelling its task afterwards.
//
// Waking: the receiver parks by storing its counted node in rx_waker_ under the lock,
// after re-checking in_; a sender that pushes takes rx_waker_ under the lock and wakes
// it after unlocking. A sender therefore touches the receiver's task only when it is
// actually parked.
//
// Closing: rx_closed_ (receiver closed or dropped) makes later sends fail and fails every
// queued sender (their values go back to them); buffered messages still drain, and so
// do messages sent through permits reserved before the close. tx_closed_ (last sender
// or permit gone) lets recv report the end once the queues are empty.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "rill/detail/chan_lock.hpp"
#include "rill/detail/waiter.hpp"

namespace rill::detail::mpsc {

using rill::detail::list_waiter;
using rill::detail::waiter_list;

template <class T>
struct send_waiter {
    enum state_t : std::uint8_t { idle, queued, granted, closed };
    send_waiter* prev = nullptr;
    send_waiter* next = nullptr;
    wake_node* waker = nullptr;  // counted; taken by whoever completes the waiter
    T* value = nullptr;          // null: a reserve() waiter (wants a permit only)
    state_t state = idle;        // written under the channel lock
};

template <class T>
struct chan {
    using waiter = send_waiter<T>;
    static constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

    explicit chan(std::size_t cap) : max_cap_(cap), permits_(cap) {}
    chan(const chan&) = delete;
    chan& operator=(const chan&) = delete;
    ~chan() { drop_node(rx_waker_); }

    bool bounded() const noexcept { return max_cap_ != unbounded; }

    void release_ref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // --- sending -------------------------------------------------------------------------

    enum class push_result : std::uint8_t { sent, full, closed };

    /// Sends `v` if a permit is free and nobody queues before us. Moves from `v` only
    /// when it returns sent.
    push_result try_push(T& v) {
        wake_node* rx;
        {
            lock_guard g{lock_};
            if (rx_closed_) return push_result::closed;
            if (bounded() && !take_permit_locked()) return push_result::full;
            push_locked(std::move(v), rx);
        }
        if (rx) wake_by_value(rx);
        return push_result::sent;
    }

    /// Takes a permit for reserve(): true on success.
    push_result try_reserve() {
        lock_guard g{lock_};
        if (rx_closed_) return push_result::closed;
        if (!take_permit_locked()) return push_result::full;
        ++reserved_;
        return push_result::sent;
    }

    /// Sends with a permit already held (permit::send): cannot fail.
    void push_reserved(T v) {
        wake_node* rx;
        {
            lock_guard g{lock_};
            --reserved_;
            push_locked(std::move(v), rx);
        }
        if (rx) wake_by_value(rx);
    }

    /// A reserved permit is given back unused (a permit or a granted reserve waiter dropped).
    void unreserve() noexcept {
        chan_wakes wakes;
        {
            lock_guard g{lock_};
            --reserved_;
            ++permits_;
            grant_all(g, wakes);
            if (rx_closed_ && reserved_ == 0) wakes.push(std::exchange(rx_waker_, nullptr));
        }
    }

    /// Queues `w` (state idle) unless a permit became free or the channel closed since the
    /// fast path looked. Returns the state the waiter is in: queued (suspend), granted
    /// (done) or closed (fail).
    typename waiter::state_t enqueue(waiter* w, wake_node* node) {
        chan_wakes wakes;
        lock_guard g{lock_};
        if (rx_closed_) {
            w->state = waiter::closed;
            drop_node(node);
            return waiter::closed;
        }
        w->waker = nullptr;  // set below only if we stay queued: a self-grant must not wake us
        w->state = waiter::queued;
        list_push_back<&waiter::prev, &waiter::next>(head_, tail_, w);
        has_waiters_.store(true, std::memory_order_seq_cst);
        // Permits freed before the flag was visible are harvested here (Dekker, see above).
        grant_all(g, wakes);
        if (w->state == waiter::queued) {
            w->waker = node;
        } else {
            drop_node(node);
        }
        return w->state;
    }

    /// Withdraws a waiter whose coroutine is being destroyed (or that gave up). Returns
    /// the state it was in: queued (removed), granted (a send's message went out; a
    /// reserve's permit is passed on) or closed.
    typename waiter::state_t withdraw(waiter* w) noexcept {
        chan_wakes wakes;
        wake_node* mine = nullptr;
        typename waiter::state_t was;
        {
            lock_guard g{lock_};
            was = w->state;
            if (was == waiter::queued) {
                // Every waiter wants one permit, so leaving the queue unblocks nobody.
                unlink_locked(w);
                if (head_ == nullptr) has_waiters_.store(false, std::memory_order_relaxed);
            } else if (was == waiter::granted && w->value == nullptr) {
                // A permit granted to a reserve() that never resumed: pass it on.
                --reserved_;
                ++permits_;
                grant_all(g, wakes);
                if (rx_closed_ && reserved_ == 0) wakes.push(std::exchange(rx_waker_, nullptr));
            }
            mine = std::exchange(w->waker, nullptr);
            w->state = waiter::idle;
        }
        drop_node(mine);
        return was;
    }

    // --- receiving (receiver only) -------------------------------------------------------

    bool has_local() const noexcept { return out_pos_ < out_.size(); }

    /// Moves everything sent so far into out_. Returns true when out_ has a message.
    bool refill() {
        if (has_local()) return true;
        out_.clear();
        out_pos_ = 0;
        lock_guard g{lock_};
        if (in_.empty()) return false;
        out_.swap(in_);
        return true;
    }

    enum class rx_state : std::uint8_t { ready, empty, finished };

    /// Whether recv would complete now: a message is there, nothing is (yet), or nothing
    /// ever will be. Moves what was sent into out_ when out_ is empty.
    rx_state poll_rx() {
        if (has_local()) return rx_state::ready;
        out_.clear();
        out_pos_ = 0;
        lock_guard g{lock_};
        if (!in_.empty()) {
            out_.swap(in_);
            return rx_state::ready;
        }
        return finished_locked() ? rx_state::finished : rx_state::empty;
    }

    bool finished_locked() const noexcept {
        return in_.empty() && (tx_closed_ || (rx_closed_ && reserved_ == 0));
    }

    /// Appends up to `limit` messages to `buf` (refilling once); returns how many.
    std::size_t take_many(std::vector<T>& buf, std::size_t limit) {
        std::size_t n = 0;
        for (int round = 0; round < 2 && n < limit; ++round) {
            if (!refill()) break;
            while (n < limit && has_local()) {
                buf.push_back(std::move(out_[out_pos_++]));
                ++n;
            }
        }
        if (n != 0 && bounded()) release_permits(n);
        return n;
    }

    /// Takes the next local message (has_local() must hold) and returns its permit.
    T take() {
        T v = std::move(out_[out_pos_++]);
        if (bounded()) release_permits(1);
        return v;
    }

    void release_permits(std::size_t n) {
        released_.fetch_add(n, std::memory_order_seq_cst);
        if (has_waiters_.load(std::memory_order_seq_cst)) {
            chan_wakes wakes;
            lock_guard g{lock_};
            grant_all(g, wakes);
        }
    }

    /// Parks the receiver unless a message or the end arrived. True: parked.
    bool park_rx(wake_node* node) {
        wake_node* old;
        {
            lock_guard g{lock_};
            if (!in_.empty() || finished_locked()) {
                old = node;
            } else {
                old = std::exchange(rx_waker_, node);
            }
        }
        drop_node(old);
        return old != node;
    }

    void unpark_rx(wake_node* node) noexcept {
        wake_node* mine = nullptr;
        {
            lock_guard g{lock_};
            if (rx_waker_ == node) mine = std::exchange(rx_waker_, nullptr);
        }
        drop_node(mine);
    }

    /// Receiver close(): later sends fail, queued senders get their values back.
    void close_rx() noexcept {
        chan_wakes wakes;
        lock_guard g{lock_};
        rx_closed_ = true;
        rx_closed_flag_.store(true, std::memory_order_release);
        while (waiter* w = head_) {
            unlink_locked(w);
            w->state = waiter::closed;
            wakes.push(std::exchange(w->waker, nullptr));
            if (wakes.full()) {
                g.unlock();
                wakes.wake_all();
                g.lock();
            }
        }
        has_waiters_.store(false, std::memory_order_relaxed);
        closed_waiters_.take_all(wakes);
    }

    /// sender::closed(): parks `w` until the receiver closes. False: already closed.
    bool park_closed(list_waiter* w, wake_node* node) {
        {
            lock_guard g{lock_};
            if (!rx_closed_) {
                closed_waiters_.push_back(w, node);
                return true;
            }
        }
        drop_node(node);
        return false;
    }
    void unpark_closed(list_waiter* w) noexcept {
        wake_node* n;
        {
            lock_guard g{lock_};
            n = closed_waiters_.remove(w);
        }
        drop_node(n);
    }

    /// The last sender (or permit) is gone.
    void close_tx() noexcept {
        wake_node* rx;
        {
            lock_guard g{lock_};
            tx_closed_ = true;
            tx_closed_flag_.store(true, std::memory_order_release);
            rx = std::exchange(rx_waker_, nullptr);
        }
        if (rx) wake_by_value(rx);
    }

    void sender_acquire() noexcept { tx_count_.fetch_add(1, std::memory_order_relaxed); }
    void sender_release() noexcept {
        if (tx_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            close_tx();
            release_ref();
        }
    }

    /// Drops every buffered message (the receiver is gone).
    void drain_on_drop() {
        out_.clear();
        out_pos_ = 0;
        std::vector<T> rest;
        {
            lock_guard g{lock_};
            rest.swap(in_);
        }
    }

    // --- queries ---------------------------------------------------------------------------

    std::size_t len() {
        lock_guard g{lock_};
        return in_.size() + (out_.size() - out_pos_);
    }
    std::size_t capacity() {
        if (!bounded()) return unbounded;
        lock_guard g{lock_};
        return permits_ + released_.load(std::memory_order_acquire);
    }
    bool rx_closed() const noexcept { return rx_closed_flag_.load(std::memory_order_acquire); }
    bool tx_closed() const noexcept { return tx_closed_flag_.load(std::memory_order_acquire); }

    const std::size_t max_cap_;

private:
    // Holds lock_ for a scope; unlock()/lock() let a loop wake a full batch in between.
    class lock_guard {
    public:
        explicit lock_guard(chan_lock& l) noexcept : l_(l) { l_.lock(); }
        lock_guard(const lock_guard&) = delete;
        lock_guard& operator=(const lock_guard&) = delete;
        ~lock_guard() {
            if (held_) l_.unlock();
        }
        void unlock() noexcept {
            l_.unlock();
            held_ = false;
        }
        void lock() noexcept {
            l_.lock();
            held_ = true;
        }

    private:
        chan_lock& l_;
        bool held_ = true;
    };

    bool take_permit_locked() noexcept {
        if (head_ != nullptr) return false;  // others queue first: FIFO
        if (permits_ == 0) {
            if (released_.load(std::memory_order_relaxed) == 0) return false;
            permits_ = released_.exchange(0, std::memory_order_acq_rel);
            if (permits_ == 0) return false;
        }
        --permits_;
        return true;
    }

    void push_locked(T&& v, wake_node*& rx) {
        in_.push_back(std::move(v));
        rx = std::exchange(rx_waker_, nullptr);
    }

    void unlink_locked(waiter* w) noexcept { list_unlink<&waiter::prev, &waiter::next>(head_, tail_, w); }

    void grant_all(lock_guard& g, chan_wakes& wakes) {
        while (grant_locked(wakes)) {
            g.unlock();
            wakes.wake_all();
            g.lock();
        }
    }

    /// Hands free permits to queued waiters in order. Returns true when it stopped because
    /// `wakes` is full (the caller wakes those and calls again).
    bool grant_locked(chan_wakes& wakes) {
        permits_ += released_.exchange(0, std::memory_order_seq_cst);
        while (head_ != nullptr && permits_ > 0) {
            if (wakes.full()) return true;
            waiter* w = head_;
            unlink_locked(w);
            --permits_;
            if (w->value != nullptr) {
                wake_node* rx;
                push_locked(std::move(*w->value), rx);
                wakes.push(rx);
            } else {
                ++reserved_;
            }
            w->state = waiter::granted;
            wakes.push(std::exchange(w->waker, nullptr));
        }
        if (head_ == nullptr) has_waiters_.store(false, std::memory_order_relaxed);
        return false;
    }

    // Shared, guarded by lock_.
    alignas(64) chan_lock lock_;
    std::vector<T> in_;
    wake_node* rx_waker_ = nullptr;
    waiter* head_ = nullptr;
    waiter* tail_ = nullptr;
    waiter_list closed_waiters_;  // sender::closed() awaits
    std::size_t permits_;
    std::size_t reserved_ = 0;
    bool rx_closed_ = false;
    bool tx_closed_ = false;

public:
    // Atomics read by both sides.
    alignas(64) std::atomic<std::size_t> released_{0};
    std::atomic<bool> has_waiters_{false};
    std::atomic<bool> rx_closed_flag_{false};
    std::atomic<bool> tx_closed_flag_{false};
    std::atomic<std::size_t> tx_count_{1};
    std::atomic<std::uint32_t> refs_{2};

    // The receiver's side.
    alignas(64) std::vector<T> out_;
    std::size_t out_pos_ = 0;
};

}  // namespace rill::detail::mpsc
