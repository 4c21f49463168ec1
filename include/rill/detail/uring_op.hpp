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
// Cancelling a recv (the socket is closed with it in flight), from any thread, without
//   submitting the owner's queue: an SQE not yet submitted is rewritten into a no-op
//   (its completion then reports ECANCELED); a submitted one is cancelled with a
//   synchronous cancel (io_uring_register), keyed by the op's address, which stays
//   unique because the caller still holds the owner's ref.
//
// A released send (its socket closed) still goes if it can go at once: its write()
//   returned as soon as the bytes were copied into the op (write-behind), so the caller
//   counts them as written, as it would bytes in the kernel's socket buffer. With its
//   SQE not yet submitted, the op's fd is swapped for a dup of it, with MSG_DONTWAIT, so
//   that closing the socket's fd, and the number's reuse, cannot redirect the send. A
//   submitted send that has not completed waits for room in a full socket buffer: it is
//   cancelled (a peer that does not read would otherwise keep the connection open). The
//   dup is closed when the completion is reaped; a send cut short sets SO_LINGER 0
//   first, so the peer sees a reset, not a clean end of stream.
//
// The waiter: one counted waker, set by uring_wait under the op's lock while the op is
//   not done; completion sets done and takes the waker under the same lock, and wakes it
//   after unlocking. A destroyed awaiter withdraws its waker under the lock.
//
// An abandoned recv stays with its socket: the next read takes the bytes it received
//   before reading anything else. A send in flight stays with its socket too: the next
//   write, flush or shutdown waits for it to finish first (and reports its error), so
//   byte order is kept and a write destroyed while it waits has sent nothing.
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
    std::uint32_t off = 0; // recv: bytes already handed out; send: bytes resent up to (the socket's lock)
    std::uint32_t cap = 0; // buffer size
    bool dropped = false;  // cancelled before submission: its SQE became a no-op (ring mutex)
    bool is_send = false;  // a send: released without a cancel (see the design block)
    bool shut_wr = false;  // shut the write side down once the send completed (ring mutex)
    int fd = -1;           // the socket's fd, as queued
    int own_fd = -1;       // a dup of fd that outlives the socket's, closed at reaping (ring mutex)
    std::uint64_t seq = 0; // the ring's queue sequence number of its SQE (ring mutex)
    void* sqe = nullptr;   // that SQE, while not submitted (ring mutex)
    // The data buffer follows the struct (allocated together).
    std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
};

/// Test hooks. Flags OR'ed into every send: MSG_DONTWAIT makes a send that finds the
/// socket buffer full complete with EAGAIN, as the kernel may under memory pressure.
/// And a count of the sends whose rest went through the readiness path
/// (stream_socket::resend_rest).
inline std::atomic<int> uring_send_extra_flags{0};
inline std::atomic<std::uint64_t> uring_sends_resent{0};

/// The most bytes one op carries: the op (header + bytes) stays within the frame
/// allocator's recycled sizes, so the path allocates nothing once warm. A longer read or
/// write through the ring transfers this much (reads and writes may be partial).
inline constexpr std::size_t uring_max_payload = max_small_size - sizeof(uring_op);

/// This thread's ring: non-null only on a worker of a runtime built with io_uring on.
uring_ring* current_ring() noexcept;
/// Queues a recv of up to `len` bytes of `fd` on `r` (submitted at the worker's next
/// flush). Returns the op with two refs (the caller's and the kernel's).
uring_op* uring_recv(uring_ring* r, int fd, std::size_t len);
/// Queues a send of a copy of `bytes` on `r`, as uring_recv; the kernel retries a short
/// send until every byte went or an error came (MSG_WAITALL), so a completion with fewer
/// bytes than `cap` means the stream broke.
uring_op* uring_send(uring_ring* r, int fd, std::span<const std::byte> bytes);
/// The owner drops its ref; a recv still in flight is cancelled, a send goes on (see the
/// design block).
void uring_release(uring_op* op) noexcept;
/// shutdown(SHUT_WR) of the socket once the send `op` completed, so that the FIN does
/// not overtake it. False: the send is done already (or cannot be tracked): shut down now.
bool uring_shutdown_after(uring_op* op) noexcept;
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
