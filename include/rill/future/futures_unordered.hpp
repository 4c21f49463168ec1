// rill::future::futures_unordered<T>: a growable set of awaitables, results in
// completion order (futures::stream::FuturesUnordered).
//
//     rill::future::futures_unordered<int> set;
//     for (int id : ids) set.push(fetch(id));
//     while (std::optional<int> v = co_await set.next()) print(*v);   // as they finish
//
// push(a) adds an awaitable (moved in; an lvalue is awaited by reference, not allowed for
// the one-shot awaiters of future/by_ref.hpp: pass those as rvalues); nothing runs
// until next() is awaited, which starts the new ones and returns the next result in
// completion order, or std::nullopt when the set is empty. A member that threw
// rethrows from the next() that returns it (it leaves the set). size()/len(), empty().
//
// Design: every member is a branch of the task that awaits next(), with its own wake
// node; a completed member links its slot into a FIFO ready list, so each wake costs
// O(1) and 100,000 members scale linearly. The members' nodes hang below an *anchor*
// relay owned by the set, attached to the awaiting coroutine only while a next() is
// pending: between two next() calls a member's wake is parked (as Rust's set is only
// polled from next), and a next() abandoned by a select leaves every member running
// and registered. See docs/design/composition.md.
//
// Cancel safety: next() is cancel-safe: destroying a coroutine waiting in it loses no
// result (completed members stay queued for the next call). Destroying the set destroys
// every member (cancels what each waited on).
// Resumes on: the awaiting task's worker.
// Thread safety: a set belongs to one task; all its members run on that task's thread.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/branch.hpp"
#include "rill/future/unit.hpp"

namespace rill::future {

namespace detail {

/// Slots of branches with a free list, a FIFO ready list and an anchor relay.
template <class T>
class unordered_core {
public:
    static constexpr std::uint32_t npos = static_cast<std::uint32_t>(-1);

    unordered_core() = default;
    unordered_core(const unordered_core&) = delete;
    unordered_core& operator=(const unordered_core&) = delete;
    ~unordered_core() { drop_all(); }

    std::size_t size() const noexcept { return len_; }

    /// Adds a member; returns its slot.
    template <class A>
    std::uint32_t push(A&& a) {
        std::uint32_t idx;
        if (free_ != npos) {
            idx = free_;
            free_ = slots_[idx].next;
        } else {
            idx = static_cast<std::uint32_t>(slots_.size());
            slots_.emplace_back();
        }
        slot& s = slots_[idx];
        s.br = rill::detail::branch<T>(
            rill::detail::make_branch<T, A>(std::forward<A>(a)));
        s.next = npos;
        ++len_;
        if (anchor_ != nullptr && armed_) {
            // A next() is pending (pushed from another branch of this task): start the
            // member from the task's run loop, never nested inside this call.
            s.br.prepare(anchor_, this, &on_done, idx);
            rill::detail::wake_node* n = node_of_branch(s.br);
            rill::detail::wake_by_ref(n);
        } else {
            unstarted_.push_back(idx);
        }
        return idx;
    }

    /// Destroys every member now. A next() pending in another branch of the task (a
    /// select or join) is woken and returns std::nullopt: the set is empty.
    void clear() noexcept {
        const bool waiting = armed_;
        drop_all();
        if (waiting) {
            // Resumed from the task's run loop, never nested inside this call (the caller
            // is another branch of the same task, still running).
            waiter_->resume_ = parent_;
            rill::detail::wake_by_ref(waiter_);
        }
    }

    /// Starts what was pushed since the last call and attaches the anchor below `node`.
    /// Returns true when the caller must suspend (nothing ready, members pending).
    bool arm(rill::detail::wake_node* node, std::coroutine_handle<> parent) {
        if (anchor_ == nullptr) {
            anchor_ = rill::detail::relay_create(rill::detail::node_task(node), node);
        } else if (anchor_->task_ != rill::detail::node_task(node)) {
            if (len_ != unstarted_.size())
                throw std::logic_error("rill: futures_unordered/join_set used from a second task while members run");
            rill::detail::relay_release(anchor_);
            anchor_ = rill::detail::relay_create(rill::detail::node_task(node), node);
        } else {
            rill::detail::relay_attach_inline(anchor_, node);  // runs wakes parked since the last next()
        }
        // Index loop: a starting member may push more.
        for (std::size_t k = 0; k < unstarted_.size(); ++k) {
            std::uint32_t idx = unstarted_[k];
            slots_[idx].br.start(anchor_, this, &on_done, idx);
        }
        unstarted_.clear();
        if (ready_head_ != npos || len_ == 0) {
            rill::detail::relay_detach(anchor_);
            return false;
        }
        parent_ = parent;
        waiter_ = node;
        armed_ = true;
        return true;
    }
    /// The pending next() finished or was abandoned.
    void disarm() noexcept {
        armed_ = false;
        if (anchor_ != nullptr) rill::detail::relay_detach(anchor_);
    }

    bool has_ready() const noexcept { return ready_head_ != npos; }
    /// Unlinks the oldest completed member; npos when none.
    std::uint32_t pop_ready() noexcept {
        std::uint32_t idx = ready_head_;
        if (idx == npos) return npos;
        ready_head_ = slots_[idx].next;
        if (ready_head_ == npos) ready_tail_ = npos;
        return idx;
    }
    /// Takes a popped member's outcome (rethrows its exception) and frees its slot.
    value_t<T> take(std::uint32_t idx) {
        struct release_slot {
            unordered_core* c;
            std::uint32_t idx;
            ~release_slot() {
                slot& s = c->slots_[idx];
                s.br.reset();
                s.next = c->free_;
                c->free_ = idx;
                --c->len_;
            }
        } guard{this, idx};
        return take_value(slots_[idx].br);
    }

private:
    struct slot {
        rill::detail::branch<T> br;
        std::uint32_t next = npos;  // free list or ready list
    };

    void drop_all() noexcept {
        armed_ = false;
        slots_.clear();  // destroys the branch frames: their registrations are withdrawn
        unstarted_.clear();
        free_ = ready_head_ = ready_tail_ = npos;
        len_ = 0;
        if (anchor_ != nullptr) rill::detail::relay_release(std::exchange(anchor_, nullptr));
    }

    static rill::detail::wake_node* node_of_branch(rill::detail::branch<T>& b) noexcept { return b.node(); }

    static std::coroutine_handle<> on_done(void* self, unsigned index) noexcept {
        auto* c = static_cast<unordered_core*>(self);
        c->slots_[index].next = npos;
        if (c->ready_tail_ == npos) {
            c->ready_head_ = index;
        } else {
            c->slots_[c->ready_tail_].next = index;
        }
        c->ready_tail_ = index;
        if (c->armed_) {
            // Only reached from a wake that passed the anchor, so the awaiting coroutine's
            // chain is live: resume it directly.
            c->armed_ = false;
            return c->parent_;
        }
        return std::noop_coroutine();
    }

    std::vector<slot> slots_;
    std::vector<std::uint32_t> unstarted_;
    std::uint32_t free_ = npos;
    std::uint32_t ready_head_ = npos;
    std::uint32_t ready_tail_ = npos;
    std::size_t len_ = 0;
    rill::detail::relay_node* anchor_ = nullptr;
    std::coroutine_handle<> parent_{};
    rill::detail::wake_node* waiter_ = nullptr;  // the node of the pending next() (while armed_)
    bool armed_ = false;
};

/// The awaiter of next(): `Finish(core, slot)` turns a popped slot into the result.
template <class T, class Owner>
class unordered_next {
public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    explicit unordered_next(Owner* owner) noexcept : owner_(owner) {}
    /// Moved only before it is awaited (into a select or join branch).
    unordered_next(unordered_next&& o) noexcept : owner_(o.owner_), armed_(std::exchange(o.armed_, false)) {}
    unordered_next(const unordered_next&) = delete;
    unordered_next& operator=(const unordered_next&) = delete;
    ~unordered_next() {
        if (armed_) owner_->core().disarm();  // abandoned: members keep their registrations
    }

    bool await_ready() const noexcept {
        auto& c = owner_->core();
        return c.has_ready() || c.size() == 0;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = awaiting_node(h);
        armed_ = owner_->core().arm(node, h);
        return armed_;
    }
    std::optional<value_t<T>> await_resume() {
        if (armed_) {
            armed_ = false;
            owner_->core().disarm();
        }
        std::uint32_t idx = owner_->core().pop_ready();
        if (idx == unordered_core<T>::npos) return std::nullopt;
        return owner_->finish(idx);
    }

private:
    Owner* owner_;
    bool armed_ = false;
};

}  // namespace detail

template <class T>
class futures_unordered {
public:
    using value_type = value_t<T>;

    futures_unordered() : core_(std::make_unique<detail::unordered_core<T>>()) {}
    futures_unordered(futures_unordered&&) noexcept = default;
    futures_unordered& operator=(futures_unordered&&) noexcept = default;
    futures_unordered(const futures_unordered&) = delete;
    futures_unordered& operator=(const futures_unordered&) = delete;

    /// Adds an awaitable yielding T (started by the next call of next()).
    template <class A>
        requires rill::awaitable<A> && std::is_convertible_v<rill::detail::await_result_t<A>, T>
    void push(A&& a) {
        core_->push(std::forward<A>(a));
    }

    /// The next result in completion order, or std::nullopt when the set is empty.
    /// Cancel safety: safe (see the file comment).
    [[nodiscard]] detail::unordered_next<T, futures_unordered> next() noexcept {
        return detail::unordered_next<T, futures_unordered>(this);
    }

    std::size_t size() const noexcept { return core_ ? core_->size() : 0; }
    std::size_t len() const noexcept { return size(); }
    bool empty() const noexcept { return size() == 0; }
    bool is_empty() const noexcept { return empty(); }
    /// Destroys every member. A next() pending in another branch of this task (inside a
    /// select or join) then returns std::nullopt.
    void clear() noexcept {
        if (core_) core_->clear();
    }

private:
    friend class detail::unordered_next<T, futures_unordered>;
    detail::unordered_core<T>& core() noexcept { return *core_; }
    std::optional<value_type> finish(std::uint32_t idx) { return core_->take(idx); }

    std::unique_ptr<detail::unordered_core<T>> core_;
};

}  // namespace rill::future
