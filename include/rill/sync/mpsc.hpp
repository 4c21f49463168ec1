// rill::sync::mpsc: multi-producer, single-consumer channels (Tokio's mpsc).
//
//     auto [tx, rx] = rill::sync::mpsc::channel<job>(100);   // bounded: backpressure
//     co_await tx.send(job{...});        // waits while 100 messages are buffered
//     while (std::optional<job> j = co_await rx.recv()) handle(*j);  // ends when every
//                                                                    // sender is gone
//     auto [utx, urx] = rill::sync::mpsc::unbounded_channel<event>();
//     utx.send(event{...});              // never waits
//
// g++ 12 miscompiles `while (co_await rx.recv())` (the bare co_await as a loop
// condition: the coroutine hangs or traps; clang is fine). Bind the result instead, as
// above: `while (auto v = co_await rx.recv())` or `auto v = co_await ...; if (!v) break;`.
//
// Senders are copyable (each copy is another producer); the channel closes for the
// receiver when the last sender (and the last permit) is gone: recv() then returns every
// message still buffered, then std::nullopt. The receiver can close() the channel: sends
// fail from then on, messages already sent still drain.
//
// Errors are values, not exceptions: a send on a closed channel hands the message back
// inside send_error<T> (std::expected<void, send_error<T>>), so a loop that sends into a
// channel whose receiver may be gone pays no try/catch. try_send tells full from closed
// (try_send_error<T>, value inside); send_timeout tells timeout from closed.
//
// Capacity (bounded channels): a message takes one permit from send until recv hands it
// out. reserve() takes a permit ahead of time (permit<T>::send cannot fail and does not
// wait); senders waiting for capacity are served in FIFO order. capacity() is the number
// of free permits, max_capacity() the channel's bound.
//
// Cancel safety:
//   - recv() / recv_many(): cancel-safe. A message is taken out of the channel only when
//     the await completes; destroying a waiting (or coop-yielded) recv leaves every
//     message in the channel.
//   - send(): destroying a send that waits for capacity withdraws it; its message is
//     dropped with it, unsent (as in Tokio). If capacity was granted to it just before
//     (the message is then already in the channel) the send has happened.
//   - reserve(): a permit granted to a destroyed reserve() goes to the next waiting
//     sender (or back to the channel).
//   - send_timeout(): on timeout the message comes back in the error.
//   - sender::closed() (completes when the receiver closes or is dropped): cancel-safe.
// Cooperative budget: a recv or send that completes at once consumes one unit of the
// task's budget (DESIGN §5); when it is spent the task yields once to its worker before
// the await completes, so a loop over a channel that is never empty cannot starve the
// other tasks of its worker.
// Resumes on: the awaiting task's worker.
// Thread safety: senders may be used from any thread (each copy by one task at a time);
// the receiver by one task at a time, one recv/recv_many in flight at once.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <expected>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rill/detail/mpsc_chan.hpp"
#include "rill/sync/send_error.hpp"
#include "rill/task.hpp"
#include "rill/time/timeout.hpp"

namespace rill::sync::mpsc {

/// A send on a closed channel: the message, handed back.
template <class T>
using send_error = rill::sync::send_error<T>;

enum class try_send_error_kind { full, closed };

/// try_send / try_reserve failed: the channel is full or closed; the message is inside.
template <class T>
struct try_send_error {
    try_send_error_kind kind;
    T value;
    bool is_full() const noexcept { return kind == try_send_error_kind::full; }
    bool is_closed() const noexcept { return kind == try_send_error_kind::closed; }
    T into_inner() && { return std::move(value); }
};
template <>
struct try_send_error<void> {
    try_send_error_kind kind;
    bool is_full() const noexcept { return kind == try_send_error_kind::full; }
    bool is_closed() const noexcept { return kind == try_send_error_kind::closed; }
};

enum class send_timeout_error_kind { timeout, closed };

/// send_timeout failed: the deadline passed or the channel closed; the message is inside.
template <class T>
struct send_timeout_error {
    send_timeout_error_kind kind;
    T value;
    bool is_timeout() const noexcept { return kind == send_timeout_error_kind::timeout; }
    bool is_closed() const noexcept { return kind == send_timeout_error_kind::closed; }
    T into_inner() && { return std::move(value); }
};

/// try_recv found nothing: empty (senders alive) or disconnected (closed and drained).
enum class try_recv_error { empty, disconnected };

template <class T>
class sender;
template <class T>
class unbounded_sender;
namespace detail {
template <class T>
class reserve_awaiter;
}

/// A slot reserved in a bounded channel (sender::reserve / try_reserve). send() cannot
/// fail; dropping the permit unused gives the slot back. Keeps the channel open for the
/// receiver as a sender does.
template <class T>
class permit {
public:
    permit() noexcept = default;
    permit(permit&& o) noexcept : ch_(std::exchange(o.ch_, nullptr)) {}
    permit& operator=(permit&& o) noexcept {
        if (this != &o) {
            reset();
            ch_ = std::exchange(o.ch_, nullptr);
        }
        return *this;
    }
    ~permit() { reset(); }

    /// Sends `v` into the reserved slot (the receiver gets it even if it closed the
    /// channel after the reservation). Consumes the permit.
    void send(T v) {
        if (ch_ == nullptr) throw std::logic_error("mpsc::permit: send on an empty permit");
        auto* c = std::exchange(ch_, nullptr);
        c->push_reserved(std::move(v));
        c->sender_release();
    }
    explicit operator bool() const noexcept { return ch_ != nullptr; }

private:
    friend class sender<T>;
    friend class detail::reserve_awaiter<T>;
    explicit permit(rill::detail::mpsc::chan<T>* c) noexcept : ch_(c) {}  // permit and tx ref taken
    void reset() noexcept {
        if (auto* c = std::exchange(ch_, nullptr)) {
            c->unreserve();
            c->sender_release();
        }
    }
    rill::detail::mpsc::chan<T>* ch_ = nullptr;
};

namespace detail {

using rill::detail::mpsc::chan;
using rill::detail::mpsc::send_waiter;

/// The awaitable of sender::send (and, with Value = false, of reserve()).
template <class T>
class send_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    send_awaiter(chan<T>* c, T v) : ch_(c), value_(std::move(v)) {}
    /// Only an awaiter that was not awaited yet may move (timeout() takes it by value).
    send_awaiter(send_awaiter&& o) : ch_(o.ch_), value_(std::move(o.value_)), st_(o.st_) {}
    send_awaiter& operator=(send_awaiter&&) = delete;
    ~send_awaiter() {
        if (st_ == waiting) ch_->withdraw(&w_);
    }

    bool await_ready() {
        if (ch_ == nullptr) {
            st_ = closed;
            return true;
        }
        switch (ch_->try_push(value_)) {
        case chan<T>::push_result::sent:
            if (rill::detail::coop_proceed()) {
                st_ = sent;
                return true;
            }
            st_ = sent_yield;
            return false;
        case chan<T>::push_result::closed:
            st_ = closed;
            return true;
        default:
            return false;
        }
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        if (st_ == sent_yield) {
            rill::detail::coop_yield(h);
            return true;
        }
        w_.value = &value_;
        switch (ch_->enqueue(&w_, rill::detail::counted_node(h))) {
        case send_waiter<T>::queued:
            st_ = waiting;
            return true;
        case send_waiter<T>::granted:
            st_ = sent;
            return false;
        default:
            st_ = closed;
            return false;
        }
    }
    std::expected<void, send_error<T>> await_resume() {
        if (st_ == waiting) st_ = w_.state == send_waiter<T>::granted ? sent : closed;
        if (st_ == closed) return std::unexpected(send_error<T>{std::move(value_)});
        st_ = sent;
        return {};
    }

    /// After an abandoned await (send_timeout): withdraws the waiter if still queued and
    /// says whether the message was sent. If not, value() still holds it.
    bool settle() noexcept {
        if (st_ == waiting) {
            const auto s = ch_->withdraw(&w_);
            st_ = s == send_waiter<T>::granted ? sent : s == send_waiter<T>::closed ? closed : idle;
        }
        return st_ == sent || st_ == sent_yield;
    }
    bool failed_closed() const noexcept { return st_ == closed; }
    T& value() noexcept { return value_; }

private:
    enum state_t : std::uint8_t { idle, sent, sent_yield, waiting, closed };
    chan<T>* ch_;
    T value_;
    send_waiter<T> w_{};
    state_t st_ = idle;
};

/// The awaitable of sender::reserve().
/// send_timeout's view of its send_awaiter, awaited once under a timeout: `a` is kept by
/// reference on purpose, and send_timeout settles it (withdrawn or granted) before it
/// reads the value back. Not marked one-shot, which the combinators otherwise refuse by
/// reference (detail/branch.hpp).
template <class T>
struct send_forward {
    send_awaiter<T>* a;
    bool await_ready() { return a->await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return a->await_suspend(h);
    }
    std::expected<void, send_error<T>> await_resume() { return a->await_resume(); }
};

template <class T>
class reserve_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    explicit reserve_awaiter(chan<T>* c) noexcept : ch_(c) {}
    reserve_awaiter(reserve_awaiter&& o) noexcept : ch_(o.ch_), st_(o.st_) {}
    reserve_awaiter& operator=(reserve_awaiter&&) = delete;
    ~reserve_awaiter() {
        if (st_ == waiting) ch_->withdraw(&w_);  // passes on a permit granted meanwhile
    }

    bool await_ready() {
        if (ch_ == nullptr) {
            st_ = closed;
            return true;
        }
        switch (ch_->try_reserve()) {
        case chan<T>::push_result::sent:
            st_ = granted;
            return true;
        case chan<T>::push_result::closed:
            st_ = closed;
            return true;
        default:
            return false;
        }
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        switch (ch_->enqueue(&w_, rill::detail::counted_node(h))) {
        case send_waiter<T>::queued:
            st_ = waiting;
            return true;
        case send_waiter<T>::granted:
            st_ = granted;
            return false;
        default:
            st_ = closed;
            return false;
        }
    }
    std::expected<permit<T>, send_error<void>> await_resume() {
        if (st_ == waiting) st_ = w_.state == send_waiter<T>::granted ? granted : closed;
        if (st_ == closed) return std::unexpected(send_error<void>{});
        st_ = idle;
        ch_->sender_acquire();
        return permit<T>(ch_);
    }

private:
    enum state_t : std::uint8_t { idle, granted, waiting, closed };
    chan<T>* ch_;
    send_waiter<T> w_{};
    state_t st_ = idle;
};

/// The awaitable of recv() (Many = false) and recv_many() (Many = true).
template <class T, bool Many>
class recv_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    using result_type = std::conditional_t<Many, std::size_t, std::optional<T>>;

    explicit recv_awaiter(chan<T>* c, std::vector<T>* buf = nullptr, std::size_t limit = 1) noexcept
        : ch_(c), buf_(buf), limit_(limit) {}
    recv_awaiter(recv_awaiter&& o) noexcept : ch_(o.ch_), buf_(o.buf_), limit_(o.limit_) {}
    recv_awaiter& operator=(recv_awaiter&&) = delete;
    ~recv_awaiter() {
        if (parked_) ch_->unpark_rx(parked_);
    }

    bool await_ready() {
        if (Many && limit_ == 0) return true;
        if (ch_->poll_rx() == chan<T>::rx_state::empty) return false;
        if (rill::detail::coop_proceed()) return true;
        yield_ = true;  // ready, but the budget is spent: yield first (nothing taken yet)
        return false;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        if (yield_) {
            rill::detail::coop_yield(h);
            return true;
        }
        rill::detail::wake_node* n = rill::detail::counted_node(h);
        if (!ch_->park_rx(n)) return false;
        parked_ = n;
        return true;
    }
    result_type await_resume() {
        parked_ = nullptr;
        yield_ = false;
        if constexpr (Many) {
            if (limit_ == 0) return 0;
            return ch_->take_many(*buf_, limit_);
        } else {
            if (!ch_->refill()) return std::nullopt;
            return std::optional<T>(ch_->take());
        }
    }

private:
    chan<T>* ch_;
    std::vector<T>* buf_;
    std::size_t limit_;
    rill::detail::wake_node* parked_ = nullptr;
    bool yield_ = false;
};

/// The awaitable of sender::closed().
template <class T>
class closed_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    explicit closed_awaiter(chan<T>* c) noexcept : ch_(c) {}
    closed_awaiter(closed_awaiter&& o) noexcept : ch_(o.ch_) {}
    closed_awaiter& operator=(closed_awaiter&&) = delete;
    ~closed_awaiter() {
        if (parked_) ch_->unpark_closed(&w_);
    }
    bool await_ready() const noexcept { return ch_ == nullptr || ch_->rx_closed(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        parked_ = ch_->park_closed(&w_, rill::detail::counted_node(h));
        return parked_;
    }
    void await_resume() noexcept {
        if (parked_) {
            parked_ = false;
            ch_->unpark_closed(&w_);  // a no-op: the close unlinked it
        }
    }

private:
    chan<T>* ch_;
    rill::detail::list_waiter w_{};
    bool parked_ = false;
};

/// What both receivers share.
template <class T>
class receiver_base {
public:
    receiver_base() noexcept = default;
    receiver_base(receiver_base&& o) noexcept : ch_(std::exchange(o.ch_, nullptr)) {}
    receiver_base& operator=(receiver_base&& o) noexcept {
        if (this != &o) {
            reset();
            ch_ = std::exchange(o.ch_, nullptr);
        }
        return *this;
    }
    ~receiver_base() { reset(); }

    /// Awaits the next message; std::nullopt once the channel is closed and drained.
    [[nodiscard]] recv_awaiter<T, false> recv() { return recv_awaiter<T, false>(chan_or_throw()); }
    /// Awaits at least one message, then appends up to `limit` to `buf`; returns how many
    /// (0 once closed and drained, or when limit is 0).
    [[nodiscard]] recv_awaiter<T, true> recv_many(std::vector<T>& buf, std::size_t limit) {
        return recv_awaiter<T, true>(chan_or_throw(), &buf, limit);
    }
    /// The next message if one is buffered; else empty, or disconnected once the channel
    /// is closed and drained.
    std::expected<T, try_recv_error> try_recv() {
        switch (chan_or_throw()->poll_rx()) {
        case chan<T>::rx_state::ready:
            return ch_->take();
        case chan<T>::rx_state::finished:
            return std::unexpected(try_recv_error::disconnected);
        default:
            return std::unexpected(try_recv_error::empty);
        }
    }
    /// Closes the channel: sends fail from now on (waiting senders get their messages
    /// back); what was sent before, or through permits reserved before, still drains.
    void close() noexcept {
        if (ch_) ch_->close_rx();
    }
    /// True once close() was called or every sender is gone.
    bool is_closed() const noexcept { return ch_ == nullptr || ch_->rx_closed() || ch_->tx_closed(); }
    /// Messages buffered.
    std::size_t len() const { return ch_ ? ch_->len() : 0; }
    bool is_empty() const { return len() == 0; }

protected:
    explicit receiver_base(chan<T>* c) noexcept : ch_(c) {}
    chan<T>* chan_or_throw() const {
        if (ch_ == nullptr) throw std::logic_error("mpsc: use of an empty (moved-from) receiver");
        return ch_;
    }
    void reset() noexcept {
        if (auto* c = std::exchange(ch_, nullptr)) {
            c->close_rx();
            c->drain_on_drop();
            c->release_ref();
        }
    }
    chan<T>* ch_ = nullptr;
};

/// What both senders share: the counted reference.
template <class T>
class sender_base {
public:
    sender_base() noexcept = default;
    sender_base(const sender_base& o) noexcept : ch_(o.ch_) {
        if (ch_) ch_->sender_acquire();
    }
    sender_base(sender_base&& o) noexcept : ch_(std::exchange(o.ch_, nullptr)) {}
    sender_base& operator=(const sender_base& o) noexcept {
        if (this != &o) {
            if (o.ch_) o.ch_->sender_acquire();
            reset();
            ch_ = o.ch_;
        }
        return *this;
    }
    sender_base& operator=(sender_base&& o) noexcept {
        if (this != &o) {
            reset();
            ch_ = std::exchange(o.ch_, nullptr);
        }
        return *this;
    }
    ~sender_base() { reset(); }

    /// True when the receiver is gone or closed the channel (a send would fail).
    bool is_closed() const noexcept { return ch_ == nullptr || ch_->rx_closed(); }
    /// True when both are senders of the same channel.
    bool same_channel(const sender_base& o) const noexcept { return ch_ == o.ch_; }
    /// Completes when the receiver is dropped or closes the channel, so a producer can
    /// stop working for nobody. Cancel-safe (a destroyed wait is withdrawn).
    [[nodiscard]] closed_awaiter<T> closed() noexcept { return closed_awaiter<T>(ch_); }

protected:
    explicit sender_base(chan<T>* c) noexcept : ch_(c) {}
    void reset() noexcept {
        if (auto* c = std::exchange(ch_, nullptr)) c->sender_release();
    }
    chan<T>* ch_ = nullptr;
};

}  // namespace detail

/// The receiving half of a bounded channel.
template <class T>
class receiver : public detail::receiver_base<T> {
public:
    receiver() noexcept = default;
    /// Free permits (how many sends would not wait now).
    std::size_t capacity() const { return this->chan_or_throw()->capacity(); }
    /// The bound given to channel().
    std::size_t max_capacity() const { return this->chan_or_throw()->max_cap_; }

private:
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(std::size_t);
    explicit receiver(detail::chan<T>* c) noexcept : detail::receiver_base<T>(c) {}
};

/// The receiving half of an unbounded channel.
template <class T>
class unbounded_receiver : public detail::receiver_base<T> {
public:
    unbounded_receiver() noexcept = default;

private:
    template <class U>
    friend std::pair<unbounded_sender<U>, unbounded_receiver<U>> unbounded_channel();
    explicit unbounded_receiver(detail::chan<T>* c) noexcept : detail::receiver_base<T>(c) {}
};

/// The sending half of a bounded channel; copy it for more producers.
template <class T>
class sender : public detail::sender_base<T> {
public:
    sender() noexcept = default;

    /// Awaits capacity, then sends. Result: success, or send_error<T> holding `v` when the
    /// receiver is gone or closed. See the header comment for cancel safety.
    [[nodiscard]] detail::send_awaiter<T> send(T v) { return detail::send_awaiter<T>(this->ch_, std::move(v)); }

    /// Sends without waiting: fails (value inside) when full or closed.
    std::expected<void, try_send_error<T>> try_send(T v) {
        if (this->ch_ == nullptr) return std::unexpected(try_send_error<T>{try_send_error_kind::closed, std::move(v)});
        switch (this->ch_->try_push(v)) {
        case detail::chan<T>::push_result::sent:
            return {};
        case detail::chan<T>::push_result::closed:
            return std::unexpected(try_send_error<T>{try_send_error_kind::closed, std::move(v)});
        default:
            return std::unexpected(try_send_error<T>{try_send_error_kind::full, std::move(v)});
        }
    }

    /// Awaits a permit (one slot of capacity) to send later without waiting.
    [[nodiscard]] detail::reserve_awaiter<T> reserve() noexcept { return detail::reserve_awaiter<T>(this->ch_); }

    /// A permit if one is free now.
    std::expected<permit<T>, try_send_error<void>> try_reserve() {
        if (this->ch_ == nullptr) return std::unexpected(try_send_error<void>{try_send_error_kind::closed});
        switch (this->ch_->try_reserve()) {
        case detail::chan<T>::push_result::sent:
            this->ch_->sender_acquire();
            return permit<T>(this->ch_);
        case detail::chan<T>::push_result::closed:
            return std::unexpected(try_send_error<void>{try_send_error_kind::closed});
        default:
            return std::unexpected(try_send_error<void>{try_send_error_kind::full});
        }
    }

    /// Sends, waiting at most `d` for capacity (needs a runtime with time enabled). On
    /// timeout or close the message comes back in the error. The sender must outlive the
    /// returned task.
    template <class Rep, class Period>
    task<std::expected<void, send_timeout_error<T>>> send_timeout(T v, std::chrono::duration<Rep, Period> d) {
        detail::send_awaiter<T> aw(this->ch_, std::move(v));
        bool elapsed = false;
        try {
            auto r = co_await rill::time::timeout(d, detail::send_forward<T>{&aw});
            if (r) co_return std::expected<void, send_timeout_error<T>>{};
            co_return std::unexpected(
                send_timeout_error<T>{send_timeout_error_kind::closed, std::move(r.error().value)});
        } catch (const rill::time::elapsed&) {
            elapsed = true;
        }
        (void)elapsed;
        if (aw.settle()) co_return std::expected<void, send_timeout_error<T>>{};
        co_return std::unexpected(send_timeout_error<T>{
            aw.failed_closed() ? send_timeout_error_kind::closed : send_timeout_error_kind::timeout,
            std::move(aw.value())});
    }

    /// Free permits now.
    std::size_t capacity() const { return this->ch_ ? this->ch_->capacity() : 0; }
    /// The channel's bound.
    std::size_t max_capacity() const noexcept { return this->ch_ ? this->ch_->max_cap_ : 0; }

private:
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(std::size_t);
    explicit sender(detail::chan<T>* c) noexcept : detail::sender_base<T>(c) {}
};

/// The sending half of an unbounded channel; copy it for more producers.
template <class T>
class unbounded_sender : public detail::sender_base<T> {
public:
    unbounded_sender() noexcept = default;

    /// Sends at once (never waits). Fails, handing `v` back, when the receiver is gone or
    /// closed.
    std::expected<void, send_error<T>> send(T v) {
        if (this->ch_ == nullptr || this->ch_->try_push(v) != detail::chan<T>::push_result::sent)
            return std::unexpected(send_error<T>{std::move(v)});
        return {};
    }

private:
    template <class U>
    friend std::pair<unbounded_sender<U>, unbounded_receiver<U>> unbounded_channel();
    explicit unbounded_sender(detail::chan<T>* c) noexcept : detail::sender_base<T>(c) {}
};

/// A bounded channel holding at most `capacity` messages (capacity > 0, else
/// std::invalid_argument).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
    static_assert(std::is_move_constructible_v<T>, "mpsc: T must be move-constructible");
    if (capacity == 0 || capacity == detail::chan<T>::unbounded)
        throw std::invalid_argument("mpsc::channel: capacity must be greater than 0");
    auto* c = new detail::chan<T>(capacity);
    return {sender<T>(c), receiver<T>(c)};
}

/// A channel without a bound: send never waits (memory is the limit).
template <class T>
std::pair<unbounded_sender<T>, unbounded_receiver<T>> unbounded_channel() {
    static_assert(std::is_move_constructible_v<T>, "mpsc: T must be move-constructible");
    auto* c = new detail::chan<T>(detail::chan<T>::unbounded);
    return {unbounded_sender<T>(c), unbounded_receiver<T>(c)};
}

}  // namespace rill::sync::mpsc
