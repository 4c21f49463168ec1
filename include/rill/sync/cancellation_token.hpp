// rill::sync::cancellation_token: a shared "stop" signal with a tree of child tokens
// (tokio_util's CancellationToken).
//
//     rill::sync::cancellation_token tok;
//     auto child = tok.child_token();
//     rill::spawn(worker(child));              // co_await child.cancelled() / child.is_cancelled()
//     tok.cancel();                            // cancels tok and every child, grandchild...
//
// A token is a cheap handle: copies share one state. cancel() is idempotent and wakes
// every cancelled() waiting on the token or any token below it. A child token is
// cancelled with its parent (or on its own); cancelling a child never touches the
// parent. A token whose last copy is dropped leaves the tree at once (its children are
// re-attached to its parent), so a long-lived parent does not accumulate dead children.
// A child of an already cancelled token starts cancelled. drop_guard() wraps a token in a
// guard that cancels it when destroyed, unless disarm()ed.
//
// Design: all tokens of one tree share one mutex (created by the root). Parent/child
// links and waiter lists are guarded by it; the cancelled flag is an atomic set under
// it and read without it. cancel() marks the whole subtree, detaches its children and
// unlinks its waiters under the lock, then wakes the waiters after unlocking. A node is
// freed when its last handle goes, after it was unlinked under the lock; cancelled()
// awaiters hold a handle, so a node outlives its waiters.
//
// Cancel safety: cancelled() is cancel-safe: destroying a waiting coroutine unlinks its
// waiter; nothing is consumed (a later cancelled() completes as well).
// Resumes on: the waiting task's worker.
// Thread safety: every member of a token may be called from any thread; copies may live
// in different tasks and threads.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <utility>

#include "rill/detail/waiter.hpp"

namespace rill::sync {

namespace detail_ct {
struct node;
struct waiter {
    waiter* prev_ = nullptr;
    waiter* next_ = nullptr;
    rill::detail::wake_node* waker_ = nullptr;  // counted; guarded by the tree lock
    bool fired_ = false;                        // guarded by the tree lock
};
node* new_root();
node* new_child(node* parent);
void add_handle(node* n) noexcept;
void drop_handle(node* n) noexcept;
void cancel(node* n) noexcept;
bool is_cancelled(const node* n) noexcept;
/// Links `w` unless `n` is cancelled; false (and drops `waker`) when it already is.
bool register_waiter(node* n, waiter* w, rill::detail::wake_node* waker) noexcept;
void unregister_waiter(node* n, waiter* w) noexcept;
}  // namespace detail_ct

class drop_guard;
class cancelled_awaiter;

class cancellation_token {
public:
    /// A new, uncancelled root token.
    cancellation_token() : node_(detail_ct::new_root()) {}
    cancellation_token(const cancellation_token& o) noexcept : node_(o.node_) { detail_ct::add_handle(node_); }
    // No moving constructor: a "moved-from" token stays a valid handle (moves copy).
    cancellation_token& operator=(const cancellation_token& o) noexcept {
        cancellation_token tmp(o);
        std::swap(node_, tmp.node_);
        return *this;
    }
    ~cancellation_token() { detail_ct::drop_handle(node_); }

    /// Cancels this token and all its descendants. Idempotent.
    void cancel() const noexcept { detail_ct::cancel(node_); }
    /// True once this token (or an ancestor, before it was dropped) was cancelled.
    bool is_cancelled() const noexcept { return detail_ct::is_cancelled(node_); }
    /// A token cancelled with this one (and by itself, without affecting this one).
    [[nodiscard]] cancellation_token child_token() const { return cancellation_token(detail_ct::new_child(node_)); }
    /// Wraps a copy of this token in a guard that cancels it when destroyed.
    [[nodiscard]] sync::drop_guard drop_guard() const;
    /// True when both handles refer to the same token.
    friend bool operator==(const cancellation_token& a, const cancellation_token& b) noexcept {
        return a.node_ == b.node_;
    }

    /// Completes when the token is cancelled (at once if it already is).
    /// Cancel safety: safe; see the header comment.
    [[nodiscard]] cancelled_awaiter cancelled() const noexcept;

private:
    friend class cancelled_awaiter;
    explicit cancellation_token(detail_ct::node* n) noexcept : node_(n) {}
    detail_ct::node* node_;
};

/// The awaitable of cancelled(): completes when the token is cancelled.
class cancelled_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    explicit cancelled_awaiter(cancellation_token t) noexcept : tok_(std::move(t)) {}
    cancelled_awaiter(cancelled_awaiter&& o) noexcept : tok_(o.tok_) {}  // before the await only
    cancelled_awaiter(const cancelled_awaiter&) = delete;
    ~cancelled_awaiter() {
        if (registered_) detail_ct::unregister_waiter(tok_.node_, &waiter_);
    }
    bool await_ready() const noexcept { return tok_.is_cancelled(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        registered_ = detail_ct::register_waiter(tok_.node_, &waiter_, rill::detail::counted_node(h));
        return registered_;
    }
    // Only cancel() wakes us, and it unlinked the waiter and took its waker.
    void await_resume() noexcept { registered_ = false; }

private:
    cancellation_token tok_;  // keeps the node in its tree while we wait
    detail_ct::waiter waiter_;
    bool registered_ = false;
};

inline cancelled_awaiter cancellation_token::cancelled() const noexcept { return cancelled_awaiter(*this); }

/// Cancels its token when destroyed, unless disarm() was called (tokio_util's DropGuard).
class drop_guard {
public:
    explicit drop_guard(cancellation_token t) noexcept : tok_(std::move(t)), armed_(true) {}
    drop_guard(drop_guard&& o) noexcept : tok_(o.tok_), armed_(std::exchange(o.armed_, false)) {}
    drop_guard(const drop_guard&) = delete;
    drop_guard& operator=(const drop_guard&) = delete;
    ~drop_guard() {
        if (armed_) tok_.cancel();
    }
    /// Stops the guard from cancelling; returns the token.
    cancellation_token disarm() noexcept {
        armed_ = false;
        return tok_;
    }

private:
    cancellation_token tok_;
    bool armed_;
};

inline drop_guard cancellation_token::drop_guard() const { return sync::drop_guard(*this); }

}  // namespace rill::sync
