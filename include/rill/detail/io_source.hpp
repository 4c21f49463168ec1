// The I/O driver's public face for rill's sockets: an owned, registered file descriptor
// (io_source) and the awaitable that waits for it to become ready.
//
// An io_source owns a non-blocking fd and its registration with the runtime's epoll
// driver (src/runtime/io/driver.hpp). Operations follow Tokio's readiness scheme:
//
//     for (;;) {
//         ready_event ev = co_await src.ready(interest_read);  // at once if known ready
//         ssize_t n = ::recv(src.fd(), ...);
//         if (n >= 0) return n;
//         if (errno == EAGAIN) { src.clear_readiness(ev); continue; }  // only if no newer event
//         throw std::system_error(errno, ...);
//     }
//
// The readiness word carries a tick that each event bumps, so clear_readiness(ev) with a
// stale event cannot erase a newer one (DESIGN §6; docs/design/io_driver.md).
//
// Cooperative budget: a readiness wait that finds the source ready consumes one unit of
// the task's budget (DESIGN §5, 128 per poll); with it spent, it yields once first, so a
// loop over an always-ready socket lets the worker's other tasks run (as Tokio's coop).
// Cancel safety (readiness wait): destroying the awaiting coroutine withdraws its waiter
// under the registration's lock; nothing is consumed by a wait, so nothing is lost.
// Resumes on: the awaiting task's worker.
// Thread safety: one task may wait for read readiness while another waits for write
// readiness on the same source (split halves). close() may be called while another task
// waits on the source: the waiter is woken and its operation throws ECANCELED (a waiter
// holds a ref on the registration, so it never touches freed memory); an operation that
// starts after close() throws EBADF.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>

#include "rill/detail/chan_lock.hpp"
#include "rill/detail/waiter.hpp"

namespace rill::detail {

struct scheduled_io;
struct runtime_inner;

namespace io_bits {
inline constexpr std::uint32_t readable = 1u << 0;
inline constexpr std::uint32_t writable = 1u << 1;
inline constexpr std::uint32_t read_closed = 1u << 2;
inline constexpr std::uint32_t write_closed = 1u << 3;
inline constexpr std::uint32_t error = 1u << 4;
inline constexpr std::uint32_t shutdown = 1u << 15;  // closed or the driver shut down
inline constexpr std::uint32_t mask = 0xffffu;
}  // namespace io_bits

/// What a wait for `interest_read` / `interest_write` is satisfied by.
inline constexpr std::uint32_t interest_read = io_bits::readable | io_bits::read_closed | io_bits::error;
inline constexpr std::uint32_t interest_write = io_bits::writable | io_bits::write_closed | io_bits::error;

/// Readiness observed at some tick.
struct ready_event {
    std::uint64_t tick = 0;
    std::uint32_t ready = 0;
};

/// A task waiting on a registration (intrusive; guarded by the registration's lock).
struct io_waiter {
    io_waiter* prev = nullptr;
    io_waiter* next = nullptr;
    wake_node* waker = nullptr;  // counted
    std::uint32_t interest = 0;
    bool linked = false;
};

// Out of line (src/runtime/io/driver.cpp).
/// Current readiness for `interest`; ready == 0 when none of it is known.
ready_event io_peek_ready(scheduled_io* io, std::uint32_t interest) noexcept;
/// Under the lock: ready now -> fills `ev`, drops `node`, returns false; otherwise links
/// `w` with `node` and returns true (suspended).
bool io_wait(scheduled_io* io, io_waiter* w, wake_node* node, ready_event& ev) noexcept;
/// Withdraws `w` if still linked; drops its waker.
void io_cancel_wait(scheduled_io* io, io_waiter* w) noexcept;
void io_clear_readiness(scheduled_io* io, ready_event ev) noexcept;
/// Drops the registration ref a linked waiter took (io_wait returning true).
void io_unref(scheduled_io* io) noexcept;
[[noreturn]] void io_throw_closed();

/// Waits until the registration is ready for `interest` (see file comment).
class readiness_awaiter {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    readiness_awaiter(scheduled_io* io, std::uint32_t interest) noexcept : io_(io) { w_.interest = interest; }
    readiness_awaiter(const readiness_awaiter&) = delete;
    readiness_awaiter& operator=(const readiness_awaiter&) = delete;
    /// Movable until it is awaited (so `timeout(d, s.readable())` can take it): a waiting
    /// awaiter is linked into the registration and never moves.
    readiness_awaiter(readiness_awaiter&& o) noexcept : io_(o.io_), ev_(o.ev_) {
        if (o.armed_) std::terminate();
        w_.interest = o.w_.interest;
    }
    ~readiness_awaiter() {
        if (armed_) io_cancel_wait(io_, &w_);
    }

    /// The readiness known now, without waiting.
    ready_event peek() const noexcept { return io_peek_ready(io_, w_.interest); }

    bool await_ready() noexcept {
        ev_ = io_peek_ready(io_, w_.interest);
        if (ev_.ready == 0) return false;
        // Cooperative budget (as Tokio's I/O resources): a socket that is always ready
        // would otherwise run its task for any number of operations in one poll. With
        // the budget spent, yield once and report the readiness seen before the yield
        // (a stale "ready" only costs the caller one EAGAIN: clears compare ticks).
        if (coop_proceed()) [[likely]] return true;
        yield_ = true;
        return false;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        if (yield_) {
            coop_yield(h);
            return true;
        }
        armed_ = io_wait(io_, &w_, counted_node(h), ev_);
        return armed_;
    }
    ready_event await_resume() {
        yield_ = false;
        if (armed_) {
            // Woken: the dispatcher unlinked us and took the waker.
            armed_ = false;
            ev_ = io_peek_ready(io_, w_.interest);
            io_unref(io_);
        }
        if (ev_.ready & io_bits::shutdown) io_throw_closed();
        return ev_;
    }

private:
    scheduled_io* io_;
    io_waiter w_;
    ready_event ev_{};
    bool armed_ = false;
    bool yield_ = false;  // the cooperative budget was spent: yielding, not registered
};

/// An owned non-blocking fd registered with the current runtime's I/O driver.
class io_source {
public:
    io_source() noexcept = default;
    /// Takes ownership of `fd` (non-blocking) and registers it. On failure closes `fd`
    /// and throws (std::system_error; std::logic_error outside a runtime with I/O).
    explicit io_source(int fd);
    io_source(io_source&& o) noexcept;
    io_source& operator=(io_source&& o) noexcept;
    io_source(const io_source&) = delete;
    io_source& operator=(const io_source&) = delete;
    ~io_source();

    int fd() const noexcept { return fd_.load(std::memory_order_relaxed); }
    bool is_open() const noexcept { return fd() >= 0; }
    /// Deregisters (waking waiters with ECANCELED) and closes the fd. Idempotent. The
    /// registration itself stays alive (this source holds a reference on it until it is
    /// destroyed), so an operation of another task that is between two steps on this
    /// source when it is closed sees "closed" (ECANCELED / EBADF), never freed memory.
    void close() noexcept;

    readiness_awaiter ready(std::uint32_t interest) const noexcept { return {io_, interest}; }
    void clear_readiness(ready_event ev) const noexcept { io_clear_readiness(io_, ev); }
    void check_open() const;

private:
    std::atomic<int> fd_{-1};  // atomic: close() may race a waiting operation's next step
    scheduled_io* io_ = nullptr;   // our reference: set at construction, dropped by the destructor
    runtime_inner* rt_ = nullptr;  // one runtime ref: the driver outlives the registration
};

}  // namespace rill::detail
