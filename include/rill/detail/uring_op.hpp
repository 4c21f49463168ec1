// One io_uring operation of a socket (a recv or a send through a worker's ring), as the
// socket sees it. The ring itself lives in src/runtime/io/uring.{hpp,cpp}; see
// docs/design/io_uring.md.
//
// Design block.
//
// Ownership: an op is a small recycled block holding its own data buffer (a recv lands
//   there, a send is copied there), so the kernel never touches the caller's memory and
//   destroying the awaiting coroutine at any point is safe. Refs: the owner's (the
//   socket's slot), the kernel's until its completion is reaped, and one per reader or
//   writer waiting on it (uring_ref). The last ref frees it.
//
// Cancelling (the socket is closed with the op in flight), from any thread, without
//   submitting the owner's queue: an SQE not yet submitted is rewritten into a no-op
//   (its completion then reports ECANCELED); a submitted one is cancelled with a
//   synchronous cancel (io_uring_register), keyed by the op's address, which stays
//   unique because the caller still holds the owner's ref.
//
// The waiter: one counted waker, set by uring_wait under the op's lock while the op is
//   not done; completion sets done and takes the waker under the same lock, and wakes it
//   after unlocking. A destroyed awaiter withdraws its waker under the lock.
//
// An abandoned op stays with its socket: the next read takes the bytes it received
//   before reading anything else, and the next write waits for it to finish first, so
//   byte order is kept. Closing or destroying the socket cancels what is in flight.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>

#include "rill/detail/frame_alloc.hpp"
#include "rill/detail/spin_lock.hpp"
#include "rill/detail/waiter.hpp"

namespace rill::detail {

struct uring_ring;

struct uring_op {
    spin_lock lock;
    bool done = false;         // the kernel's completion arrived (lock)
    bool cancel_sent = false;  // (lock)
    bool claimed = false;      // a reader/writer is waiting on it (the socket's lock)
    std::atomic<std::uint32_t> refs{1};
    wake_node* waiter = nullptr;  // counted (lock)
    uring_ring* ring = nullptr;
    std::int32_t res = 0;  // the completion's result: bytes, or -errno (valid once done)
    std::uint32_t off = 0; // recv: bytes already handed out (the socket's lock)
    std::uint32_t cap = 0; // buffer size
    bool dropped = false;  // cancelled before submission: its SQE became a no-op (ring mutex)
    std::uint64_t seq = 0; // the ring's queue sequence number of its SQE (ring mutex)
    void* sqe = nullptr;   // that SQE, while not submitted (ring mutex)
    // The data buffer follows the struct (allocated together).
    std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
};

/// The most bytes one op carries: the op (header + bytes) stays within the frame
/// allocator's recycled sizes, so the path allocates nothing once warm. A longer read or
/// write through the ring transfers this much (reads and writes may be partial).
inline constexpr std::size_t uring_max_payload = max_small_size - sizeof(uring_op);

/// This thread's ring: non-null only on a worker of a runtime built with io_uring on.
uring_ring* current_ring() noexcept;
/// Queues a recv of up to `len` bytes of `fd` on `r` (submitted at the worker's next
/// flush). Returns the op with two refs (the caller's and the kernel's).
uring_op* uring_recv(uring_ring* r, int fd, std::size_t len);
/// Queues a send of a copy of `bytes` on `r`, as uring_recv.
uring_op* uring_send(uring_ring* r, int fd, std::span<const std::byte> bytes);
/// The owner drops its ref; an op still in flight is cancelled.
void uring_release(uring_op* op) noexcept;
/// Takes one more ref (a reader or writer waiting on the op holds one).
inline void uring_ref(uring_op* op) noexcept { op->refs.fetch_add(1, std::memory_order_relaxed); }
/// Drops a ref taken by uring_ref.
void uring_unref(uring_op* op) noexcept;
/// Registers `node` (counted) as the waiter unless the op is done (then drops it).
bool uring_wait_on(uring_op* op, wake_node* node) noexcept;
/// Withdraws the waiter registered by uring_wait_on, if completion has not taken it.
void uring_cancel_wait(uring_op* op) noexcept;
inline bool uring_is_done(uring_op* op) noexcept {
    std::lock_guard g(op->lock);
    return op->done;
}

/// Awaits the completion of `op` (destroy-safe: withdraws its waker).
class uring_wait {
public:
    explicit uring_wait(uring_op* op) noexcept : op_(op) {}
    uring_wait(const uring_wait&) = delete;
    uring_wait& operator=(const uring_wait&) = delete;
    ~uring_wait() {
        if (armed_) uring_cancel_wait(op_);
    }
    bool await_ready() const noexcept { return uring_is_done(op_); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        armed_ = uring_wait_on(op_, counted_node(h));
        return armed_;
    }
    void await_resume() noexcept { armed_ = false; }

private:
    uring_op* op_;
    bool armed_ = false;
};

}  // namespace rill::detail
