// rill::sync::barrier: lets n tasks wait for each other (Tokio's Barrier).
//
//     rill::sync::barrier b(3);
//     // in each of 3 tasks:
//     auto r = co_await b.wait();
//     if (r.is_leader()) log("everyone arrived");
//
// wait() suspends until n calls of wait() have arrived in the current generation; the
// n-th arrival completes at once and is the leader (is_leader() is true for exactly one
// wait per generation); the others are released together. The barrier then starts the
// next generation, so it can be reused. barrier(0) behaves as barrier(1) (as Tokio's).
//
// Cancel safety: an arrival counts when wait() is first awaited. Destroying a coroutine
// that waits removes its waiter, but its arrival stays counted for that generation (as
// with Tokio's Barrier), so the others are released once n arrivals happened.
// Resumes on: the waiting task's worker.
// Thread safety: wait() may be called from any task or thread at once.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "rill/detail/waiter.hpp"

namespace rill::sync {

/// What wait() returns.
class barrier_wait_result {
public:
    explicit barrier_wait_result(bool leader) noexcept : leader_(leader) {}
    /// True for exactly one wait() per generation: the last to arrive.
    bool is_leader() const noexcept { return leader_; }

private:
    bool leader_;
};

class barrier {
public:
    explicit barrier(std::size_t n) noexcept : n_(n == 0 ? 1 : n) {}
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;

    class wait_awaiter {
    public:
        using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
        explicit wait_awaiter(barrier& b) noexcept : b_(&b) {}
        wait_awaiter(wait_awaiter&& o) noexcept : b_(o.b_) {}  // before the await only
        wait_awaiter(const wait_awaiter&) = delete;
        ~wait_awaiter() {
            if (queued_) b_->withdraw(this);
        }
        bool await_ready() const noexcept { return false; }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            wake_node_ = rill::detail::node_of(h);
            if (wake_node_ == nullptr) rill::detail::throw_not_in_task();
            wake_node_->resume_ = h;
            return b_->arrive(this);
        }
        barrier_wait_result await_resume() noexcept {
            queued_ = false;
            return barrier_wait_result(leader_);
        }

    private:
        friend class barrier;
        barrier* b_;
        wait_awaiter* prev_ = nullptr;  // guarded by b_->mutex_
        wait_awaiter* next_ = nullptr;
        rill::detail::wake_node* wake_node_ = nullptr;
        rill::detail::wake_node* waker_ = nullptr;  // counted while queued
        bool queued_ = false;                        // linked, or released but not resumed
        bool released_ = false;                      // guarded by b_->mutex_
        bool leader_ = false;
    };

    /// Waits until n tasks are waiting. Cancel safety: see the header comment.
    [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

    /// How many arrivals a generation needs.
    std::size_t size() const noexcept { return n_; }

private:
    bool arrive(wait_awaiter* w);  // false: the generation completed, w is the leader
    void withdraw(wait_awaiter* w) noexcept;

    std::mutex mutex_;
    const std::size_t n_;
    std::size_t arrived_ = 0;              // guarded by mutex_
    wait_awaiter* head_ = nullptr;         // this generation's waiters
};

}  // namespace rill::sync
