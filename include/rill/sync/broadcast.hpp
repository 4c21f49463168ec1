// rill::sync::broadcast: multi-producer, multi-consumer channel where every receiver sees
// every message (Tokio's broadcast).
//
//     auto [tx, rx1] = rill::sync::broadcast::channel<event>(16);
//     auto rx2 = tx.subscribe();             // sees what is sent from now on
//     tx.send(event{...});                   // both rx1 and rx2 will get a copy
//     auto r = co_await rx1.recv();          // std::expected<event, recv_error>
//     if (!r && r.error().is_lagged()) ...   // skipped r.error().lagged_count() messages
//
// The channel keeps the last `capacity` messages (rounded up to a power of two, as
// Tokio does). A receiver that falls further behind gets recv_error::lagged(n) once,
// telling how many it missed, and then continues from the oldest message still kept.
// When every sender is gone, receivers drain what is left and then get recv_error
// closed. send() fails, handing the value back, when there is no receiver. A message is
// destroyed once every receiver that was subscribed when it was sent has received it (the
// last one gets it moved, the others a copy) or it is overwritten. T must be copyable.
//
// recv returns a value, not an exception: lagged and closed are ordinary outcomes of a
// receive loop (the C++ form of Tokio's Result<T, RecvError>).
//
// Cancel safety: recv() is cancel-safe: a receiver's position advances only when the
// await completes, so destroying a waiting (or coop-yielded) recv loses nothing.
// Cooperative budget: a recv that completes at once consumes one unit (DESIGN §5).
// Resumes on: the receiving task's worker.
// Thread safety: senders from any thread (each copy by one task at a time); each receiver
// by one task at a time, one recv in flight.
//
// Design: one chan_lock guards the ring (slot: position, remaining readers, value), the
// tail position, the receiver count, the closed flag and the list of parked receivers. A
// send writes one slot and unlinks every parked receiver, waking them after unlocking.
// A slot whose position is the receiver's next one holds its message; position + ring
// size == next means not written yet (empty); anything else means overwritten (lagged).
#pragma once

#include <atomic>
#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/detail/chan_lock.hpp"
#include "rill/detail/waiter.hpp"
#include "rill/sync/send_error.hpp"

namespace rill::sync::broadcast {

/// send() found no receiver: the value, handed back.
template <class T>
using send_error = rill::sync::send_error<T>;

enum class recv_error_kind { closed, lagged };

/// recv() could not give a message: the channel is closed and drained, or this receiver
/// lagged behind and skipped lagged_count() messages (the next recv continues).
struct recv_error {
    recv_error_kind kind;
    std::uint64_t skipped = 0;
    bool is_closed() const noexcept { return kind == recv_error_kind::closed; }
    bool is_lagged() const noexcept { return kind == recv_error_kind::lagged; }
    std::uint64_t lagged_count() const noexcept { return skipped; }
};

enum class try_recv_error_kind { empty, closed, lagged };

/// try_recv() found nothing (empty), the end (closed), or a gap of lagged_count().
struct try_recv_error {
    try_recv_error_kind kind;
    std::uint64_t skipped = 0;
    bool is_empty() const noexcept { return kind == try_recv_error_kind::empty; }
    bool is_closed() const noexcept { return kind == try_recv_error_kind::closed; }
    bool is_lagged() const noexcept { return kind == try_recv_error_kind::lagged; }
    std::uint64_t lagged_count() const noexcept { return skipped; }
};

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
    struct slot {
        std::uint64_t pos;
        std::size_t rem = 0;  // receivers that still have to read it
        std::optional<T> val;
    };
    enum class outcome : std::uint8_t { value, empty, closed, lagged };

    explicit shared(std::size_t cap) : buf_(cap), mask_(cap - 1) {
        // A never-written slot looks like one lap behind: "empty" for position i.
        for (std::size_t i = 0; i < cap; ++i) buf_[i].pos = static_cast<std::uint64_t>(i) - cap;
    }
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

    /// Under lock_: what a receive at `next` would give. With `out`, takes it (advances
    /// `next`, moves or copies the value).
    outcome poll_locked(std::uint64_t& next, std::optional<T>* out, std::uint64_t* skipped) {
        slot& s = buf_[next & mask_];
        if (s.pos != next) {
            if (s.pos + buf_.size() == next) return closed_ ? outcome::closed : outcome::empty;
            // Overwritten: continue from the oldest message kept.
            if (out != nullptr) {
                const std::uint64_t oldest = tail_ - buf_.size();
                *skipped = oldest - next;
                next = oldest;
            }
            return outcome::lagged;
        }
        if (out != nullptr) {
            ++next;
            if (--s.rem == 0) {
                out->emplace(std::move(*s.val));
                s.val.reset();
            } else {
                out->emplace(*s.val);
            }
        }
        return outcome::value;
    }

    /// A receiver at `next` goes away: it will not read its unread slots.
    void forget_locked(std::uint64_t next) {
        const std::uint64_t start = tail_ - next > buf_.size() ? tail_ - buf_.size() : next;
        for (std::uint64_t p = start; p != tail_; ++p) {
            slot& s = buf_[p & mask_];
            if (s.pos == p && s.rem > 0 && --s.rem == 0) s.val.reset();
        }
        --rx_cnt_;
    }

    void close_tx() {
        chan_wakes wakes;
        guard g{lock_};
        closed_ = true;
        waiters_.take_all(wakes);
    }

    chan_lock lock_;
    std::vector<slot> buf_;
    const std::size_t mask_;
    std::uint64_t tail_ = 0;
    std::size_t rx_cnt_ = 1;
    bool closed_ = false;
    rill::detail::waiter_list waiters_;
    std::atomic<std::size_t> tx_count_{1};
    std::atomic<std::uint32_t> refs_{2};  // one per receiver, one for all senders
};

template <class T>
class recv_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    using outcome = typename shared<T>::outcome;
    recv_awaiter(shared<T>* sh, std::uint64_t* next) noexcept : sh_(sh), next_(next) {}
    recv_awaiter(recv_awaiter&& o) noexcept : sh_(o.sh_), next_(o.next_) {}
    recv_awaiter& operator=(recv_awaiter&&) = delete;
    ~recv_awaiter() {
        if (parked_) {
            wake_node* n;
            {
                typename shared<T>::guard g{sh_->lock_};
                n = sh_->waiters_.remove(&w_);
            }
            rill::detail::drop_node(n);
        }
    }

    bool await_ready() {
        typename shared<T>::guard g{sh_->lock_};
        if (sh_->poll_locked(*next_, nullptr, nullptr) == outcome::empty) return false;
        if (rill::detail::coop_proceed()) {
            take_locked();
            return true;
        }
        yield_ = true;  // ready, but the budget is spent: nothing taken yet
        return false;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        if (yield_) {
            rill::detail::coop_yield(h);
            return true;
        }
        wake_node* n = rill::detail::counted_node(h);
        {
            typename shared<T>::guard g{sh_->lock_};
            if (sh_->poll_locked(*next_, nullptr, nullptr) == outcome::empty) {
                sh_->waiters_.push_back(&w_, n);
                parked_ = true;
                return true;
            }
        }
        rill::detail::drop_node(n);
        return false;
    }
    std::expected<T, recv_error> await_resume() {
        if (!result_) {
            wake_node* n = nullptr;
            {
                typename shared<T>::guard g{sh_->lock_};
                if (parked_) n = sh_->waiters_.remove(&w_);
                parked_ = false;
                take_locked();
            }
            rill::detail::drop_node(n);
        }
        return std::move(*result_);
    }

private:
    void take_locked() {
        std::optional<T> v;
        std::uint64_t skipped = 0;
        switch (sh_->poll_locked(*next_, &v, &skipped)) {
        case outcome::value:
            result_.emplace(std::move(*v));
            break;
        case outcome::lagged:
            result_.emplace(std::unexpected(recv_error{recv_error_kind::lagged, skipped}));
            break;
        default:  // closed (a woken recv never finds the channel empty)
            result_.emplace(std::unexpected(recv_error{recv_error_kind::closed, 0}));
            break;
        }
    }

    shared<T>* sh_;
    std::uint64_t* next_;
    list_waiter w_{};
    std::optional<std::expected<T, recv_error>> result_;
    bool parked_ = false;
    bool yield_ = false;
};

}  // namespace detail

/// The sending half; copy it for more producers.
template <class T>
class sender {
public:
    sender() noexcept = default;
    sender(const sender& o) noexcept : sh_(o.sh_) {
        if (sh_) sh_->tx_count_.fetch_add(1, std::memory_order_relaxed);
    }
    sender(sender&& o) noexcept : sh_(std::exchange(o.sh_, nullptr)) {}
    sender& operator=(sender o) noexcept {
        std::swap(sh_, o.sh_);
        return *this;
    }
    ~sender() {
        if (sh_ && sh_->tx_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            sh_->close_tx();
            sh_->release_ref();
        }
    }

    /// Sends to every current receiver; returns how many there are. Fails, handing the
    /// value back, when there is none.
    std::expected<std::size_t, send_error<T>> send(T v) {
        check();
        rill::detail::chan_wakes wakes;
        typename detail::shared<T>::guard g{sh_->lock_};
        if (sh_->rx_cnt_ == 0) return std::unexpected(send_error<T>{std::move(v)});
        auto& s = sh_->buf_[sh_->tail_ & sh_->mask_];
        s.val = std::move(v);  // an unread older message is overwritten here
        s.pos = sh_->tail_;
        s.rem = sh_->rx_cnt_;
        ++sh_->tail_;
        sh_->waiters_.take_all(wakes);
        return sh_->rx_cnt_;
    }

    /// A new receiver that gets every message sent from now on.
    receiver<T> subscribe();

    /// Receivers alive now.
    std::size_t receiver_count() const {
        check();
        typename detail::shared<T>::guard g{sh_->lock_};
        return sh_->rx_cnt_;
    }
    /// Messages still kept for at least one receiver.
    std::size_t len() const {
        check();
        typename detail::shared<T>::guard g{sh_->lock_};
        std::size_t n = 0;
        for (const auto& s : sh_->buf_) n += s.rem > 0 ? 1 : 0;
        return n;
    }
    bool is_empty() const { return len() == 0; }

private:
    friend class receiver<T>;
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(std::size_t);
    explicit sender(detail::shared<T>* sh) noexcept : sh_(sh) {}
    void check() const {
        if (sh_ == nullptr) throw std::logic_error("broadcast: use of an empty (moved-from) sender");
    }
    detail::shared<T>* sh_ = nullptr;
};

/// A receiving half: its own position in the stream of messages.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    receiver(receiver&& o) noexcept : sh_(std::exchange(o.sh_, nullptr)), next_(o.next_) {}
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            reset();
            sh_ = std::exchange(o.sh_, nullptr);
            next_ = o.next_;
        }
        return *this;
    }
    ~receiver() { reset(); }

    /// Awaits the next message: the value, or recv_error (lagged: skipped messages, call
    /// again; closed: every sender is gone and everything was received).
    [[nodiscard]] detail::recv_awaiter<T> recv() {
        check();
        return detail::recv_awaiter<T>(sh_, &next_);
    }

    /// The next message if there is one now.
    std::expected<T, try_recv_error> try_recv() {
        check();
        std::optional<T> v;
        std::uint64_t skipped = 0;
        typename detail::shared<T>::guard g{sh_->lock_};
        switch (sh_->poll_locked(next_, &v, &skipped)) {
        case detail::shared<T>::outcome::value:
            return std::move(*v);
        case detail::shared<T>::outcome::lagged:
            return std::unexpected(try_recv_error{try_recv_error_kind::lagged, skipped});
        case detail::shared<T>::outcome::closed:
            return std::unexpected(try_recv_error{try_recv_error_kind::closed, 0});
        default:
            return std::unexpected(try_recv_error{try_recv_error_kind::empty, 0});
        }
    }

    /// A new receiver starting from now (not from this one's position).
    receiver resubscribe() const {
        check();
        typename detail::shared<T>::guard g{sh_->lock_};
        return attach_locked(sh_);
    }

    /// Messages sent that this receiver has not received yet (lagged ones included).
    std::size_t len() const {
        check();
        typename detail::shared<T>::guard g{sh_->lock_};
        return static_cast<std::size_t>(sh_->tail_ - next_);
    }
    bool is_empty() const { return len() == 0; }
    /// Receivers alive now.
    std::size_t receiver_count() const {
        check();
        typename detail::shared<T>::guard g{sh_->lock_};
        return sh_->rx_cnt_;
    }

private:
    friend class sender<T>;
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(std::size_t);
    receiver(detail::shared<T>* sh, std::uint64_t next) noexcept : sh_(sh), next_(next) {}
    void check() const {
        if (sh_ == nullptr) throw std::logic_error("broadcast: use of an empty (moved-from) receiver");
    }
    static receiver attach_locked(detail::shared<T>* sh) noexcept {
        ++sh->rx_cnt_;
        sh->refs_.fetch_add(1, std::memory_order_relaxed);
        return receiver(sh, sh->tail_);
    }
    void reset() noexcept {
        if (auto* sh = std::exchange(sh_, nullptr)) {
            {
                typename detail::shared<T>::guard g{sh->lock_};
                sh->forget_locked(next_);
            }
            sh->release_ref();
        }
    }
    detail::shared<T>* sh_ = nullptr;
    std::uint64_t next_ = 0;
};

template <class T>
receiver<T> sender<T>::subscribe() {
    check();
    typename detail::shared<T>::guard g{sh_->lock_};
    return receiver<T>::attach_locked(sh_);
}

/// A broadcast channel keeping the last `capacity` messages (rounded up to a power of
/// two; 0 is std::invalid_argument).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
    static_assert(std::is_copy_constructible_v<T>, "broadcast: T must be copyable");
    if (capacity == 0 || capacity > (std::size_t{1} << 40))
        throw std::invalid_argument("broadcast::channel: capacity must be in 1..2^40");
    auto* sh = new detail::shared<T>(std::bit_ceil(capacity));
    return {sender<T>(sh), receiver<T>(sh, 0)};
}

}  // namespace rill::sync::broadcast
