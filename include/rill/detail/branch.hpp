// Branches: awaitables run concurrently inside one task (DESIGN §4, one task one thread).
//
// A branch wraps an awaitable in a small coroutine (branch_task) whose promise carries
// its own wake node (a branch_node), so what it waits on wakes that branch alone. The
// combinator that owns the branches (timeout, select, join...) starts each inline, on
// the task's thread; when a branch finishes, its final suspend asks the owner (on_done)
// which coroutine runs next: the parent, to pick up the result, or nothing yet.
// Destroying a branch destroys its frame (cancelling what it waited on) and marks its
// node dead, so a wake already on its way is dropped, never resumed.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "rill/detail/result.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::detail {

/// Called when branch `index` of `owner` completes; returns what to resume next.
using branch_done_fn = std::coroutine_handle<> (*)(void* owner, unsigned index) noexcept;

template <class T>
struct branch_promise;

template <class T>
class branch_task {
public:
    using promise_type = branch_promise<T>;
    explicit branch_task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    branch_task(branch_task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    branch_task(const branch_task&) = delete;
    ~branch_task() {
        if (h_) h_.destroy();
    }
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

private:
    std::coroutine_handle<promise_type> h_;
};

template <class T>
struct branch_final_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<branch_promise<T>> h) noexcept {
        auto& p = h.promise();
        return p.on_done_(p.owner_, p.index_);
    }
    void await_resume() const noexcept {}
};

template <class T>
struct branch_promise_common : promise_base {
    result<T> result_;
    void* owner_ = nullptr;
    branch_done_fn on_done_ = nullptr;
    unsigned index_ = 0;

    std::suspend_always initial_suspend() const noexcept { return {}; }
    branch_final_awaiter<T> final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
};

template <class T>
struct branch_promise : branch_promise_common<T> {
    branch_task<T> get_return_object() noexcept {
        return branch_task<T>(std::coroutine_handle<branch_promise>::from_promise(*this));
    }
    template <class U = T>
    void return_value(U&& v) {
        this->result_.set_value(std::forward<U>(v));
    }
};

template <>
struct branch_promise<void> : branch_promise_common<void> {
    branch_task<void> get_return_object() noexcept {
        return branch_task<void>(std::coroutine_handle<branch_promise>::from_promise(*this));
    }
    void return_void() noexcept { this->result_.set_void(); }
};

/// One-shot awaiters: the awaiter objects returned by select, join, join_all, timeout,
/// stream::next() and futures_unordered::next() / join_set::join_next(), and the leaf
/// operations that queue themselves in a primitive: lock and semaphore acquires, mpsc
/// send/reserve/recv/closed, broadcast recv, watch changed/closed, barrier wait,
/// cancellation_token::cancelled, socket readiness (awaited again after losing a
/// select, they would be queued a second time). Each attaches
/// something below the node of the coroutine awaiting it (a relay, a set's anchor, its
/// own branches) that only its destructor withdraws. Awaited by reference from a branch
/// that loses, such an awaiter outlives that branch's node with that attachment still
/// pointing at it, and a later wake walks into freed memory; so it must be moved into
/// the branch (then the branch's destruction withdraws it). They declare a member type
/// `one_shot_tag`.
template <class A>
concept one_shot_awaiter = requires { typename std::remove_cvref_t<A>::one_shot_tag; };

/// True when `A` (a combinator's argument type: an lvalue reference type for an
/// lvalue) may become a branch: anything by value, and anything by reference except a
/// one-shot awaiter.
template <class A>
inline constexpr bool branch_arg_ok = !(std::is_lvalue_reference_v<A> && one_shot_awaiter<A>);

/// The branch coroutine: awaits `a` (held by value, or by reference when A is an
/// lvalue reference type) and stores the outcome.
template <class T, class A>
branch_task<T> make_branch(A a) {
    static_assert(branch_arg_ok<A>,
                  "rill: a one-shot awaiter (select/join/join_all/timeout, a stream or set next(), a lock or "
                  "semaphore acquire, a channel send/recv/reserve/closed, a watch/barrier/cancellation wait, "
                  "socket readiness) cannot be awaited by reference inside select, join, join_all, timeout or "
                  "futures_unordered: "
                  "pass it as an rvalue (std::move, or a fresh call such as s.next()); to keep an operation's "
                  "progress across selects, wrap it in a task and pass that by reference (or rill::future::by_ref)");
    if constexpr (std::is_void_v<T>) {
        co_await static_cast<A&&>(a);
    } else {
        co_return co_await static_cast<A&&>(a);
    }
}

/// One branch: its coroutine and its node.
template <class T>
class branch {
public:
    branch() noexcept = default;
    explicit branch(branch_task<T> t) noexcept : h_(t.release()) {}
    branch(branch&& o) noexcept : h_(std::exchange(o.h_, {})), node_(std::exchange(o.node_, nullptr)) {}
    branch& operator=(branch&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
            node_ = std::exchange(o.node_, nullptr);
        }
        return *this;
    }
    branch(const branch&) = delete;
    ~branch() { reset(); }

    /// Runs the branch inline until it first suspends or completes. `on_done` is called
    /// when it completes (also during this call, if it completes synchronously).
    void start(header* task, void* owner, branch_done_fn on_done, unsigned index) {
        start_below(task, nullptr, owner, on_done, index);
    }
    /// As start(), with `parent` the node of the coroutine that owns the combinator (so
    /// the branch is parked while a relay above it is detached; see relay_node).
    void start(wake_node* parent, void* owner, branch_done_fn on_done, unsigned index) {
        start_below(node_task(parent), parent, owner, on_done, index);
    }
    /// Prepares the node without running the branch (run() starts it).
    void prepare(wake_node* parent, void* owner, branch_done_fn on_done, unsigned index) {
        prepare_below(node_task(parent), parent, owner, on_done, index);
    }
    /// Runs a prepared branch inline until it first suspends or completes.
    void run() { h_.resume(); }
    /// Gives the branch a new index (its owner moved it to another slot).
    void set_index(unsigned index) noexcept { h_.promise().index_ = index; }

private:
    void start_below(header* task, wake_node* parent, void* owner, branch_done_fn on_done, unsigned index) {
        prepare_below(task, parent, owner, on_done, index);
        h_.resume();
    }
    void prepare_below(header* task, wake_node* parent, void* owner, branch_done_fn on_done, unsigned index) {
        ensure_aux(task);  // the node's wakes go through the task's inbox
        node_ = new branch_node;
        node_->task_ = task;
        node_->parent_ = parent;
        node_->branch_ = true;
        node_->resume_ = h_;
        auto& p = h_.promise();
        p.node_ = node_;
        p.owner_ = owner;
        p.on_done_ = on_done;
        p.index_ = index;
    }

public:
    bool started() const noexcept { return node_ != nullptr; }
    /// The branch's node (null before start/prepare).
    branch_node* node() const noexcept { return node_; }
    bool done() const noexcept { return h_ && h_.done(); }
    /// True when the branch finished with an exception. Only after done().
    bool failed() const noexcept { return h_.promise().result_.has_exception(); }
    /// The outcome (value, or rethrows). Only once, after done().
    T take() { return h_.promise().result_.take(); }
    /// Cancels the branch now: destroys its frame (destructors deregister what it waited
    /// on) and kills its node.
    void reset() noexcept {
        if (h_) std::exchange(h_, {}).destroy();
        if (branch_node* n = std::exchange(node_, nullptr)) {
            n->dead_ = true;
            branch_node_unref(n);
        }
    }

private:
    std::coroutine_handle<branch_promise<T>> h_{};
    branch_node* node_ = nullptr;
};

}  // namespace rill::detail
