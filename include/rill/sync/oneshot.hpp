// rill::sync::oneshot: a channel for exactly one value (Tokio's oneshot).
//
//     auto [tx, rx] = rill::sync::oneshot::channel<int>();
//     rill::spawn(compute(std::move(tx)));     // tx.send(42)
//     int v = co_await std::move(rx);            // throws oneshot::recv_error if tx dropped
//
// sender::send(v) hands the value back (std::unexpected(v)) when the receiver is gone.
// Awaiting the receiver gives the value, or throws recv_error when the sender was
// dropped without sending (a receiver that was close()d does not wait: it gives a value
// sent before the close, else recv_error). try_recv() does not wait. sender::closed()
// completes when the receiver is dropped (or close()d), so a producer can stop computing.
//
// VALUE_SENT is set only while RX_CLOSED is clear (a CAS), so after close() the value
// slot is either the receiver's to read or the sender's to take back, never both. A
// send that fails counts as dropping the sender (TX_DROPPED).
//
// Design: one shared block, two refs. A state word with VALUE_SENT, RX_CLOSED,
// TX_DROPPED, RX_TASK_SET, TX_TASK_SET. A side writes its waker field only while its
// TASK_SET bit is clear, then sets the bit with a CAS that fails once the event it
// waits for happened; the other side wakes a waker only after observing the bit, and
// the waker's ref is dropped by whoever clears the bit, or by the last ref of the block.
//
// Cancel safety: awaiting the receiver is cancel-safe: a value sent after the waiting
// coroutine was destroyed stays in the channel for a later await or try_recv.
// Resumes on: the receiving (or, for closed(), the sending) task's worker.
// Thread safety: sender and receiver may live on different threads; each is used by one
// task at a time.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <expected>
#include <optional>
#include <utility>

#include "rill/detail/frame_alloc.hpp"
#include "rill/detail/waiter.hpp"
#include "rill/error.hpp"

namespace rill::sync::oneshot {

/// Awaiting the receiver: the sender was dropped without sending (or the receiver was
/// closed before a value arrived).
class recv_error : public rill::error {
public:
    recv_error() : rill::error("oneshot: the sender was dropped without sending") {}
};

enum class try_recv_status { empty, closed };

namespace detail {

namespace bits {
inline constexpr std::uint32_t value_sent = 1, rx_closed = 2, tx_dropped = 4, rx_task = 8, tx_task = 16;
}

template <class T>
struct inner : rill::detail::frame_allocated {
    std::atomic<std::uint32_t> state{0};
    std::atomic<std::uint32_t> refs{2};
    rill::detail::wake_node* rx_waker = nullptr;
    rill::detail::wake_node* tx_waker = nullptr;
    std::optional<T> value;

    ~inner() {
        rill::detail::drop_node(rx_waker);
        rill::detail::drop_node(tx_waker);
    }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Registers `node` in `slot` guarded by `task_bit`, unless any of `done_bits` is set.
    // Returns false (and drops the node) when the event already happened.
    bool register_waker(rill::detail::wake_node*& slot, std::uint32_t task_bit, std::uint32_t done_bits,
                        rill::detail::wake_node* node) noexcept {
        std::uint32_t cur = state.load(std::memory_order_acquire);
        if (cur & task_bit) {  // replace an earlier registration: take the slot back first
            for (;;) {
                if (cur & done_bits) {
                    rill::detail::drop_node(node);
                    return false;
                }
                if (state.compare_exchange_weak(cur, cur & ~task_bit, std::memory_order_acq_rel))
                    break;
            }
            rill::detail::drop_node(std::exchange(slot, nullptr));
        }
        slot = node;
        for (;;) {
            if (cur & done_bits) {
                rill::detail::drop_node(std::exchange(slot, nullptr));
                return false;
            }
            if (state.compare_exchange_weak(cur, cur | task_bit, std::memory_order_acq_rel)) return true;
        }
    }
    // Withdraws a registration (the waiting coroutine is destroyed).
    void unregister(rill::detail::wake_node*& slot, std::uint32_t task_bit, std::uint32_t done_bits) noexcept {
        std::uint32_t cur = state.load(std::memory_order_acquire);
        for (;;) {
            if (!(cur & task_bit) || (cur & done_bits)) return;  // the other side owns it now
            if (state.compare_exchange_weak(cur, cur & ~task_bit, std::memory_order_acq_rel)) {
                rill::detail::drop_node(std::exchange(slot, nullptr));
                return;
            }
        }
    }
};

}  // namespace detail

template <class T>
class receiver;

template <class T>
class sender {
public:
    sender() noexcept = default;
    explicit sender(detail::inner<T>* i) noexcept : inner_(i) {}
    sender(sender&& o) noexcept : inner_(std::exchange(o.inner_, nullptr)) {}
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            reset();
            inner_ = std::exchange(o.inner_, nullptr);
        }
        return *this;
    }
    ~sender() { reset(); }

    /// Sends the value; returns it back when the receiver is gone. Consumes the sender.
    std::expected<void, T> send(T v) {
        detail::inner<T>* in = std::exchange(inner_, nullptr);
        if (in == nullptr) return std::unexpected(std::move(v));
        if (in->state.load(std::memory_order_acquire) & detail::bits::rx_closed) {
            drop(in);
            return std::unexpected(std::move(v));
        }
        in->value.emplace(std::move(v));
        // VALUE_SENT is only ever set while RX_CLOSED is clear: once the receiver closed,
        // it may be looking at the slot (try_recv), so the value must not appear there.
        std::uint32_t cur = in->state.load(std::memory_order_acquire);
        for (;;) {
            if (cur & detail::bits::rx_closed) {
                T back = std::move(*in->value);
                in->value.reset();
                drop(in);
                return std::unexpected(std::move(back));
            }
            if (in->state.compare_exchange_weak(cur, cur | detail::bits::value_sent, std::memory_order_acq_rel,
                                                std::memory_order_acquire))
                break;
        }
        if (cur & detail::bits::rx_task) rill::detail::wake_by_ref(in->rx_waker);
        in->release();
        return {};
    }

    /// True when the receiver is gone (a send would fail).
    bool is_closed() const noexcept {
        return inner_ == nullptr || (inner_->state.load(std::memory_order_acquire) & detail::bits::rx_closed);
    }

    struct closed_awaiter {
        detail::inner<T>* in;
        bool registered = false;
        explicit closed_awaiter(detail::inner<T>* i) noexcept : in(i) {}
        closed_awaiter(const closed_awaiter&) = delete;
        ~closed_awaiter() {
            if (registered) in->unregister(in->tx_waker, detail::bits::tx_task, detail::bits::rx_closed);
        }
        bool await_ready() const noexcept {
            return in == nullptr || (in->state.load(std::memory_order_acquire) & detail::bits::rx_closed);
        }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            registered = in->register_waker(in->tx_waker, detail::bits::tx_task, detail::bits::rx_closed,
                                            rill::detail::counted_node(h));
            return registered;
        }
        void await_resume() noexcept { registered = false; }
    };
    /// Completes when the receiver is dropped or closed.
    /// Cancel safety: safe. Resumes on: the sending task's worker.
    closed_awaiter closed() noexcept { return closed_awaiter(inner_); }

private:
    // The sender is gone without a value (dropped, or its send failed): a waiting
    // receiver wakes up to recv_error.
    static void drop(detail::inner<T>* in) noexcept {
        std::uint32_t prev = in->state.fetch_or(detail::bits::tx_dropped, std::memory_order_acq_rel);
        if ((prev & detail::bits::rx_task) && !(prev & detail::bits::value_sent))
            rill::detail::wake_by_ref(in->rx_waker);
        in->release();
    }
    void reset() noexcept {
        if (detail::inner<T>* in = std::exchange(inner_, nullptr)) drop(in);
    }
    detail::inner<T>* inner_ = nullptr;
};

template <class T>
class receiver {
public:
    receiver() noexcept = default;
    explicit receiver(detail::inner<T>* i) noexcept : inner_(i) {}
    receiver(receiver&& o) noexcept : inner_(std::exchange(o.inner_, nullptr)) {}
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            reset();
            inner_ = std::exchange(o.inner_, nullptr);
        }
        return *this;
    }
    ~receiver() { reset(); }

    /// Closes the channel: a later send fails. A value already sent can still be received.
    void close() noexcept {
        if (inner_ == nullptr) return;
        std::uint32_t prev = inner_->state.fetch_or(detail::bits::rx_closed, std::memory_order_acq_rel);
        if ((prev & detail::bits::tx_task) && !(prev & detail::bits::rx_closed))
            rill::detail::wake_by_ref(inner_->tx_waker);
    }

    /// The value if it was sent; otherwise empty (sender alive) or closed (sender gone).
    std::expected<T, try_recv_status> try_recv() {
        if (inner_ == nullptr) return std::unexpected(try_recv_status::closed);
        std::uint32_t s = inner_->state.load(std::memory_order_acquire);
        if ((s & detail::bits::value_sent) && inner_->value) {
            T v = std::move(*inner_->value);
            inner_->value.reset();
            return v;
        }
        if (s & (detail::bits::tx_dropped | detail::bits::value_sent | detail::bits::rx_closed))
            return std::unexpected(try_recv_status::closed);
        return std::unexpected(try_recv_status::empty);
    }

    class awaiter {
    public:
        explicit awaiter(detail::inner<T>* in) noexcept : in_(in) {}
        awaiter(const awaiter&) = delete;
        ~awaiter() {
            if (registered_) in_->unregister(in_->rx_waker, detail::bits::rx_task, done_bits);
        }
        bool await_ready() const noexcept {
            return in_ == nullptr || (in_->state.load(std::memory_order_acquire) & done_bits);
        }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            registered_ = in_->register_waker(in_->rx_waker, detail::bits::rx_task, done_bits,
                                              rill::detail::counted_node(h));
            return registered_;
        }
        T await_resume() {
            registered_ = false;
            if (in_ != nullptr && (in_->state.load(std::memory_order_acquire) & detail::bits::value_sent) &&
                in_->value) {
                T v = std::move(*in_->value);
                in_->value.reset();
                return v;
            }
            throw recv_error();
        }

    private:
        // A closed receiver does not wait (Tokio): it yields a value sent before close(),
        // else recv_error.
        static constexpr std::uint32_t done_bits =
            detail::bits::value_sent | detail::bits::tx_dropped | detail::bits::rx_closed;
        detail::inner<T>* in_;
        bool registered_ = false;
    };

    awaiter operator co_await() & noexcept { return awaiter(inner_); }
    awaiter operator co_await() && noexcept { return awaiter(inner_); }

private:
    void reset() noexcept {
        detail::inner<T>* in = std::exchange(inner_, nullptr);
        if (in == nullptr) return;
        std::uint32_t prev = in->state.fetch_or(detail::bits::rx_closed, std::memory_order_acq_rel);
        if ((prev & detail::bits::tx_task) && !(prev & detail::bits::rx_closed))
            rill::detail::wake_by_ref(in->tx_waker);
        in->release();
    }
    detail::inner<T>* inner_ = nullptr;
};

/// Creates a connected sender/receiver pair.
template <class T>
std::pair<sender<T>, receiver<T>> channel() {
    auto* in = new detail::inner<T>();
    return {sender<T>(in), receiver<T>(in)};
}

}  // namespace rill::sync::oneshot
