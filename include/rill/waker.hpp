// rill::waker and custom awaitables written as poll functions.
//
// The lowest level at which a user extends rill is a *pollable*: any type with
//
//     std::optional<T> poll(rill::context& cx);
//
// that returns a value when ready, or std::nullopt after arranging for
// `cx.waker()` (copied, i.e. cloned) to be woken when it may be ready. This is Rust's
// Future::poll: poll may be called again after a wake, and spurious wakes are allowed.
// A pollable is awaited with `co_await rill::poll_fn(p)` (p by reference, it must
// outlive the await) or `co_await rill::poll_fn(std::move(p))`.
//
// waker: a counted handle on the place a task is waiting at. Copying it clones it;
// `wake()` schedules the task on its own worker (it never runs the task inline), from
// any thread. A waker may outlive the await that created it: a wake that arrives after
// that await ended is a no-op.
//
// Cancel safety: destroying a coroutine suspended in poll_fn destroys the pollable (or
// leaves a referenced one alone) and turns every outstanding waker of it into a no-op.
// Resumes on: the awaiting task's worker.
// Thread safety: waker is safe to copy, wake and destroy from any thread; a pollable is
// only polled by its task's worker.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill {

namespace detail {

/// The per-await node behind user wakers (see the file comment).
struct user_wake_node : frame_allocated {
    enum : std::uint8_t { idle, armed, fired, dead };
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<std::uint8_t> state_{idle};
    wake_node* target_;

    explicit user_wake_node(wake_node* target) noexcept : target_(target) {}
};

void user_node_release(user_wake_node* n) noexcept;
void user_node_wake(user_wake_node* n) noexcept;

}  // namespace detail

class waker {
public:
    waker() noexcept = default;
    /// Adopts one ref of `n` and one ref of its task.
    explicit waker(detail::user_wake_node* n) noexcept : node_(n) {}
    waker(const waker& o) noexcept : node_(o.node_) { acquire(); }
    waker(waker&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
    waker& operator=(const waker& o) noexcept {
        if (this != &o) {
            reset();
            node_ = o.node_;
            acquire();
        }
        return *this;
    }
    waker& operator=(waker&& o) noexcept {
        if (this != &o) {
            reset();
            node_ = std::exchange(o.node_, nullptr);
        }
        return *this;
    }
    ~waker() { reset(); }

    /// Schedules the waiting task and releases this waker.
    void wake() && noexcept {
        if (node_) {
            detail::user_node_wake(node_);
            reset();
        }
    }
    /// Schedules the waiting task; this waker stays usable.
    void wake_by_ref() const noexcept {
        if (node_) detail::user_node_wake(node_);
    }
    /// True when both wake the same await.
    bool will_wake(const waker& o) const noexcept { return node_ == o.node_; }
    explicit operator bool() const noexcept { return node_ != nullptr; }

private:
    void acquire() noexcept {
        if (node_) {
            node_->refs_.fetch_add(1, std::memory_order_relaxed);
            detail::node_acquire(node_->target_);
        }
    }
    void reset() noexcept {
        if (auto* n = std::exchange(node_, nullptr)) {
            detail::wake_node* t = n->target_;
            detail::user_node_release(n);
            detail::node_release(t);
        }
    }
    detail::user_wake_node* node_ = nullptr;
};

/// What a pollable gets on each poll: the waker of the await it is polled for.
class context {
public:
    explicit context(rill::waker w) noexcept : waker_(std::move(w)) {}
    const rill::waker& waker() const noexcept { return waker_; }

private:
    rill::waker waker_;
};

template <class P>
concept pollable = requires(P& p, context& cx) {
    { p.poll(cx) };
    requires requires(decltype(p.poll(cx)) r) {
        { r.has_value() } -> std::convertible_to<bool>;
        *r;
    };
};

namespace detail {

template <class P>
using poll_output_t = std::remove_cvref_t<decltype(*std::declval<P&>().poll(std::declval<context&>()))>;

/// One poll of a pollable inside the poll_fn driver coroutine.
template <class P>
struct poll_once {
    using T = poll_output_t<P>;
    P& pollable_;
    user_wake_node* node_;
    std::optional<T> ready_{};

    bool await_ready() const noexcept { return false; }
    template <class Pr>
    bool await_suspend(std::coroutine_handle<Pr> h) {
        wake_node* target = node_of(h);
        if (target == nullptr) throw_not_in_task();
        // Set once, on the first poll, before any waker of this node exists: clones read
        // it from other threads afterwards.
        if (node_->target_ == nullptr) node_->target_ = target;
        target->resume_ = h;
        node_->state_.store(user_wake_node::armed, std::memory_order_release);
        node_->refs_.fetch_add(1, std::memory_order_relaxed);
        node_acquire(target);
        context cx{waker{node_}};
        auto r = pollable_.poll(cx);
        if (!r.has_value()) return true;  // a wake (now or later) resumes h once
        ready_.emplace(std::move(*r));
        // Disarm. If a waker fired meanwhile, its wake of the task is on its way and will
        // resume h exactly once: stay suspended and deliver the value then.
        return node_->state_.exchange(user_wake_node::idle, std::memory_order_acq_rel) ==
               user_wake_node::fired;
    }
    std::optional<T> await_resume() noexcept { return std::move(ready_); }
};

/// Drives a pollable: polls it, suspends until woken, polls again, until ready.
template <class P>
task<poll_output_t<P>> drive_pollable(P& p) {
    struct node_guard {
        user_wake_node* n;
        ~node_guard() {
            if (n == nullptr) return;
            n->state_.store(user_wake_node::dead, std::memory_order_release);
            user_node_release(n);
        }
    };
    node_guard guard{nullptr};
    for (;;) {
        if (guard.n == nullptr) {
            // Created on the first poll, once the coroutine knows its wake node.
            guard.n = new user_wake_node(nullptr);
        }
        poll_once<P> step{p, guard.n};
        std::optional<poll_output_t<P>> r = co_await step;
        if (r.has_value()) co_return std::move(*r);
    }
}

template <class P>
task<poll_output_t<P>> drive_owned_pollable(P p) {
    co_return co_await drive_pollable(p);
}

}  // namespace detail

/// Awaits a pollable held by reference; it must outlive the await.
template <pollable P>
task<detail::poll_output_t<P>> poll_fn(P& p) {
    return detail::drive_pollable(p);
}

/// Awaits a pollable that the await owns.
template <pollable P>
    requires(!std::is_lvalue_reference_v<P>)
task<detail::poll_output_t<P>> poll_fn(P&& p) {
    return detail::drive_owned_pollable(std::move(p));
}

}  // namespace rill
