// rill::sync::watch: a single value that many receivers observe, retaining only the
// latest (Tokio's watch).
//
//     auto [tx, rx] = rill::sync::watch::channel<config>(load());
//     tx.send(new_config);                       // fails (value back) if no receiver
//     while (co_await rx.changed()) {            // std::expected<void, recv_error>
//         auto cfg = rx.borrow_and_update();     // read guard: *cfg, cfg->field
//         apply(*cfg);
//     }                                          // error: the sender is gone
//
// Versions: every send / send_modify / send_replace (and send_if_modified whose function
// returns true) makes a new version. Each receiver remembers the version it has seen:
// changed() completes when a newer one exists and marks it seen; borrow_and_update() marks
// the value it returns as seen; borrow() does not. A new receiver (channel(),
// sender::subscribe(), or a copy of a receiver, which keeps its origin's version) has the
// current value marked seen, except a copy, which keeps what its origin had seen.
// mark_changed() / mark_unchanged() set that state by hand.
//
// Guards: borrow() returns a read guard holding a shared lock on the value. Drop it
// quickly and never hold it across co_await: a send waits for every guard to go (and a
// guard held by the sending thread itself deadlocks, as in Tokio).
//
// Closing: changed() fails with recv_error once the sender is gone and the receiver has
// seen the last version (a final value sent just before is still reported first).
// send() fails (handing the value back) when no receiver is alive; send_modify,
// send_if_modified and send_replace update the value even then. sender::closed() completes
// when every receiver is gone.
//
// Cancel safety: changed() and closed() are cancel-safe: destroying a waiting one
// withdraws it and marks nothing seen.
// Resumes on: the awaiting task's worker.
// Thread safety: the sender and the receivers may be on different threads; each object
// is used by one task at a time.
//
// Design: the value sits under a std::shared_mutex (readers share it; send takes it
// exclusively and bumps version_ while holding it, so a guard sees a value and version
// that belong together). Parked changed() and closed() awaits are in two waiter lists
// under a chan_lock; a send bumps the version before taking that lock, and a changed()
// re-checks the version under it after queueing, so no update is missed.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <expected>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/detail/chan_lock.hpp"
#include "rill/detail/waiter.hpp"
#include "rill/sync/send_error.hpp"

namespace rill::sync::watch {

/// send() found no receiver: the value, handed back.
template <class T>
using send_error = rill::sync::send_error<T>;

/// changed() / has_changed(): the sender is gone (and the last version was seen).
struct recv_error {};

template <class T>
class sender;
template <class T>
class receiver;

namespace detail {

using rill::detail::chan_lock;
using rill::detail::list_waiter;
using rill::detail::chan_wakes;
using rill::detail::wake_node;

template <class T>
struct shared {
    template <class... A>
    explicit shared(A&&... a) : value_(std::forward<A>(a)...) {}

    void release_ref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    struct guard {
        explicit guard(chan_lock& l) noexcept : l_(l) { l_.lock(); }
        ~guard() { l_.unlock(); }
        guard(const guard&) = delete;
        guard& operator=(const guard&) = delete;
        chan_lock& l_;
    };
    /// A new version is visible: wake every parked changed().
    void notify_changed() {
        chan_wakes wakes;
        guard g{lock_};
        changed_waiters_.take_all(wakes);
    }
    void close_tx() {
        chan_wakes wakes;
        guard g{lock_};
        closed_.store(true, std::memory_order_release);
        changed_waiters_.take_all(wakes);
    }
    void rx_acquire() noexcept {
        rx_count_.fetch_add(1, std::memory_order_relaxed);
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void rx_release() {
        if (rx_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            chan_wakes wakes;
            guard g{lock_};
            closed_waiters_.take_all(wakes);
        }
        release_ref();
    }

    mutable std::shared_mutex value_lock_;
    T value_;
    std::atomic<std::uint64_t> version_{0};
    std::atomic<bool> closed_{false};
    std::atomic<std::size_t> rx_count_{1};
    std::atomic<std::uint32_t> refs_{2};  // one per receiver, one for the sender
    chan_lock lock_;                      // guards both waiter lists
    rill::detail::waiter_list changed_waiters_;
    rill::detail::waiter_list closed_waiters_;
};

/// Parks on one of the two waiter lists until `ready()` holds.
template <class T, class Self>
class list_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    explicit list_awaiter(shared<T>* sh) noexcept : sh_(sh) {}
    list_awaiter(list_awaiter&& o) noexcept : sh_(o.sh_) {}
    list_awaiter& operator=(list_awaiter&&) = delete;
    ~list_awaiter() { withdraw(); }

    bool await_ready() { return self().ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        wake_node* n = rill::detail::counted_node(h);
        {
            typename shared<T>::guard g{sh_->lock_};
            if (!self().ready()) {
                self().list().push_back(&w_, n);
                parked_ = true;
                return true;
            }
        }
        rill::detail::drop_node(n);
        return false;
    }

protected:
    void withdraw() noexcept {
        if (!parked_) return;
        parked_ = false;
        wake_node* n;
        {
            typename shared<T>::guard g{sh_->lock_};
            n = self().list().remove(&w_);
        }
        rill::detail::drop_node(n);
    }
    Self& self() noexcept { return static_cast<Self&>(*this); }
    shared<T>* sh_;
    list_waiter w_{};  // linked and unlinked under sh_->lock_
    bool parked_ = false;
};

template <class T>
class changed_awaiter : public list_awaiter<T, changed_awaiter<T>> {
public:
    changed_awaiter(shared<T>* sh, std::uint64_t* seen) noexcept : list_awaiter<T, changed_awaiter<T>>(sh), seen_(seen) {}
    bool ready() const noexcept {
        return this->sh_->version_.load(std::memory_order_acquire) != *seen_ ||
               this->sh_->closed_.load(std::memory_order_acquire);
    }
    rill::detail::waiter_list& list() noexcept { return this->sh_->changed_waiters_; }
    std::expected<void, recv_error> await_resume() {
        this->withdraw();
        const std::uint64_t v = this->sh_->version_.load(std::memory_order_acquire);
        if (v != *seen_) {
            *seen_ = v;
            return {};
        }
        return std::unexpected(recv_error{});
    }

private:
    std::uint64_t* seen_;
};

template <class T>
class closed_awaiter : public list_awaiter<T, closed_awaiter<T>> {
public:
    explicit closed_awaiter(shared<T>* sh) noexcept : list_awaiter<T, closed_awaiter<T>>(sh) {}
    bool ready() const noexcept { return this->sh_->rx_count_.load(std::memory_order_acquire) == 0; }
    rill::detail::waiter_list& list() noexcept { return this->sh_->closed_waiters_; }
    void await_resume() noexcept { this->withdraw(); }
};

}  // namespace detail

/// A read guard on the current value (shared lock). has_changed(): the value was not yet
/// seen by the receiver when it was borrowed.
template <class T>
class ref {
public:
    const T& operator*() const noexcept { return *value_; }
    const T* operator->() const noexcept { return value_; }
    const T& get() const noexcept { return *value_; }
    bool has_changed() const noexcept { return changed_; }

private:
    friend class sender<T>;
    friend class receiver<T>;
    ref(std::shared_lock<std::shared_mutex> l, const T* v, bool changed) noexcept
        : lock_(std::move(l)), value_(v), changed_(changed) {}
    std::shared_lock<std::shared_mutex> lock_;
    const T* value_;
    bool changed_;
};

template <class T>
class receiver {
public:
    receiver() noexcept = default;
    receiver(const receiver& o) noexcept : sh_(o.sh_), seen_(o.seen_) {
        if (sh_) sh_->rx_acquire();
    }
    receiver(receiver&& o) noexcept : sh_(std::exchange(o.sh_, nullptr)), seen_(o.seen_) {}
    receiver& operator=(receiver o) noexcept {
        std::swap(sh_, o.sh_);
        std::swap(seen_, o.seen_);
        return *this;
    }
    ~receiver() {
        if (auto* sh = std::exchange(sh_, nullptr)) sh->rx_release();
    }

    /// The current value, without marking it seen.
    ref<T> borrow() const {
        detail::shared<T>* const sh = checked();
        std::shared_lock l(sh->value_lock_);
        const bool changed = sh->version_.load(std::memory_order_relaxed) != seen_;
        return ref<T>(std::move(l), &sh->value_, changed);
    }
    /// The current value, marking it seen.
    ref<T> borrow_and_update() {
        detail::shared<T>* const sh = checked();
        std::shared_lock l(sh->value_lock_);
        const std::uint64_t v = sh->version_.load(std::memory_order_relaxed);
        const bool changed = v != seen_;
        seen_ = v;
        return ref<T>(std::move(l), &sh->value_, changed);
    }
    /// Whether a version newer than the one seen exists; recv_error once the sender is gone.
    std::expected<bool, recv_error> has_changed() const {
        detail::shared<T>* const sh = checked();
        if (sh->closed_.load(std::memory_order_acquire)) return std::unexpected(recv_error{});
        return sh->version_.load(std::memory_order_acquire) != seen_;
    }
    /// Awaits a version newer than the one seen and marks it seen; recv_error when the
    /// sender is gone and there is nothing new.
    [[nodiscard]] detail::changed_awaiter<T> changed() {
        detail::shared<T>* const sh = checked();
        return detail::changed_awaiter<T>(sh, &seen_);
    }
    /// Makes the current value count as not seen (changed() completes at once).
    void mark_changed() {
        detail::shared<T>* const sh = checked();
        seen_ = sh->version_.load(std::memory_order_acquire) - 1;
    }
    /// Makes the current value count as seen.
    void mark_unchanged() {
        detail::shared<T>* const sh = checked();
        seen_ = sh->version_.load(std::memory_order_acquire);
    }
    bool same_channel(const receiver& o) const noexcept { return sh_ == o.sh_; }

private:
    friend class sender<T>;
    template <class U, class... A>
    friend std::pair<sender<U>, receiver<U>> channel(A&&...);
    receiver(detail::shared<T>* sh, std::uint64_t seen) noexcept : sh_(sh), seen_(seen) {}
    // The shared state, or a logic_error when empty. Methods use the pointer it returns,
    // not sh_: on a default-constructed handle g++ 12 otherwise warns about the dead path.
    detail::shared<T>* checked() const {
        if (sh_ == nullptr) throw std::logic_error("watch: use of an empty (moved-from) receiver");
        return sh_;
    }
    detail::shared<T>* sh_ = nullptr;
    std::uint64_t seen_ = 0;
};

template <class T>
class sender {
public:
    sender() noexcept = default;
    sender(sender&& o) noexcept : sh_(std::exchange(o.sh_, nullptr)) {}
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            reset();
            sh_ = std::exchange(o.sh_, nullptr);
        }
        return *this;
    }
    ~sender() { reset(); }

    /// Replaces the value and notifies; fails (value back, nothing changed) when no
    /// receiver is alive.
    std::expected<void, send_error<T>> send(T v) {
        detail::shared<T>* const sh = checked();
        if (sh->rx_count_.load(std::memory_order_acquire) == 0) return std::unexpected(send_error<T>{std::move(v)});
        (void)send_replace(std::move(v));
        return {};
    }
    /// Replaces the value, notifies, and returns the old one (works without receivers).
    T send_replace(T v) {
        detail::shared<T>* const sh = checked();
        {
            std::unique_lock l(sh->value_lock_);
            using std::swap;
            swap(v, sh->value_);
            sh->version_.fetch_add(1, std::memory_order_release);
        }
        sh->notify_changed();
        return v;
    }
    /// Modifies the value in place with `f(T&)` and notifies (always).
    template <class F>
    void send_modify(F&& f) {
        detail::shared<T>* const sh = checked();
        {
            std::unique_lock l(sh->value_lock_);
            std::forward<F>(f)(sh->value_);
            sh->version_.fetch_add(1, std::memory_order_release);
        }
        sh->notify_changed();
    }
    /// Modifies the value with `f(T&) -> bool`; notifies only when f returns true.
    /// Returns what f returned.
    template <class F>
    bool send_if_modified(F&& f) {
        detail::shared<T>* const sh = checked();
        bool modified;
        {
            std::unique_lock l(sh->value_lock_);
            modified = std::forward<F>(f)(sh->value_);
            if (modified) sh->version_.fetch_add(1, std::memory_order_release);
        }
        if (modified) sh->notify_changed();
        return modified;
    }
    /// The current value (a read guard; has_changed() is always false).
    ref<T> borrow() const {
        detail::shared<T>* const sh = checked();
        std::shared_lock l(sh->value_lock_);
        return ref<T>(std::move(l), &sh->value_, false);
    }
    /// A new receiver with the current value marked seen.
    receiver<T> subscribe() {
        detail::shared<T>* const sh = checked();
        std::shared_lock l(sh->value_lock_);
        sh->rx_acquire();
        return receiver<T>(sh, sh->version_.load(std::memory_order_relaxed));
    }
    std::size_t receiver_count() const noexcept { return sh_ ? sh_->rx_count_.load(std::memory_order_acquire) : 0; }
    /// True when no receiver is alive.
    bool is_closed() const noexcept { return receiver_count() == 0; }
    /// Completes when every receiver is gone.
    [[nodiscard]] detail::closed_awaiter<T> closed() {
        detail::shared<T>* const sh = checked();
        return detail::closed_awaiter<T>(sh);
    }

private:
    template <class U, class... A>
    friend std::pair<sender<U>, receiver<U>> channel(A&&...);
    explicit sender(detail::shared<T>* sh) noexcept : sh_(sh) {}
    detail::shared<T>* checked() const {
        if (sh_ == nullptr) throw std::logic_error("watch: use of an empty (moved-from) sender");
        return sh_;
    }
    void reset() {
        if (auto* sh = std::exchange(sh_, nullptr)) {
            sh->close_tx();
            sh->release_ref();
        }
    }
    detail::shared<T>* sh_ = nullptr;
};

/// A watch channel whose value starts as T(args...) (already marked seen by the receiver).
template <class T, class... A>
std::pair<sender<T>, receiver<T>> channel(A&&... init) {
    auto* sh = new detail::shared<T>(std::forward<A>(init)...);
    return {sender<T>(sh), receiver<T>(sh, 0)};
}

}  // namespace rill::sync::watch
