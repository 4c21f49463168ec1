// rill::net::stream_socket: the byte-stream operations shared by tcp_stream and
// unix_stream (read, write, readiness, shutdown), over a registered non-blocking fd.
//
//     std::array<std::byte, 4096> buf;
//     std::size_t n = co_await s.read(buf);         // 0 = end of stream
//     co_await s.write_all(std::as_bytes(std::span(buf).first(n)));
//     co_await s.shutdown();                        // FIN: the peer reads 0
//
// The rill::io stream contract: read(span<byte>) -> size_t (0 = EOF), write(span<const
// byte>) -> size_t (may be partial), flush() -> void (nothing to flush on a socket),
// shutdown() -> void (shuts down the write side). Errors (a peer reset: ECONNRESET, a
// broken pipe: EPIPE, ...) throw std::system_error with the errno from the operation
// that hit them; SIGPIPE is never raised (sends use MSG_NOSIGNAL).
//
// Read-ahead: a read of less than 1 KiB asks the kernel for a few bytes more than the
// caller's buffer holds (recvmsg into the buffer plus a 16-byte spill area in the socket
// object); larger reads are plain recv calls, where a short read proves the same. When the spill
// stays empty, the socket is known to be drained, so the next read waits for the next
// edge instead of making a recv that would fail with EAGAIN. Request/response traffic
// (read_exact of a frame the peer sent whole) saves one syscall per message. Bytes that
// land in the spill area come first on the next read, peek or try_read, and keep the
// socket readable. So a program that takes native_handle() and reads the fd itself
// may miss up to 16 bytes that a rill read already took.
//
// io_uring (builder::enable_io_uring(), multi_thread): reads and writes under 1 KiB made
// by a task on a worker go through that worker's ring instead. The bytes pass through a
// buffer the operation owns; a read or write abandoned while in flight (a lost select,
// a timeout) stays with the socket: the next read returns the bytes it received before
// any others, the next write waits for it. See docs/design/io_uring.md.
//
// Cancel safety: every operation is cancel-safe in the sense that destroying the awaiting
// coroutine while it waits for readiness loses nothing (no bytes were transferred yet).
// write_all/read_exact destroyed midway may have transferred part of the buffer. With
// io_uring on, a write() destroyed while its send is in flight may still send its bytes
// (all or part): the next write and shutdown() wait for that send first.
// Resumes on: the awaiting task's worker.
// Thread safety: one task may read while another writes (see into_split()); two tasks
// reading at once, or writing at once, interleave unpredictably but safely. close() may
// run while another task waits: that operation throws ECANCELED.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <iterator>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "rill/detail/io_source.hpp"
#include "rill/detail/spin_lock.hpp"
#include "rill/detail/uring_op.hpp"
#include "rill/error.hpp"
#include "rill/io/error.hpp"
#include "rill/task.hpp"

namespace rill::net {

/// read_exact hit the end of the stream before the buffer was full: the same type as
/// rill::io's (a std::system_error with code rill::io::errc::unexpected_eof), so code
/// written against rill::io's generic read_exact catches the sockets' too.
using unexpected_eof = rill::io::unexpected_eof;

/// What readable()/writable() return: completes (void) once the socket is ready for the
/// interest; throws ECANCELED if the socket is closed meanwhile. Waiting takes no frame.
class ready_wait {
public:
    using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
    ready_wait(const detail::io_source& src, std::uint32_t interest) : a_(src.ready(interest)) {}
    bool await_ready() noexcept { return a_.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return a_.await_suspend(h);
    }
    void await_resume() { a_.await_resume(); }

private:
    detail::readiness_awaiter a_;
};

class stream_socket {
public:
    stream_socket() noexcept = default;
    explicit stream_socket(detail::io_source src) noexcept : src_(std::move(src)) {}
    stream_socket(stream_socket&&) noexcept = default;
    /// Closes this socket first (cancelling its ring ops before its fd goes).
    stream_socket& operator=(stream_socket&& o) noexcept;

    /// Reads at most buf.size() bytes; 0 at end of stream.
    task<std::size_t> read(std::span<std::byte> buf);
    task<std::size_t> read(std::span<char> buf) { return read(std::as_writable_bytes(buf)); }
    /// Fills buf completely; throws unexpected_eof if the stream ends first.
    task<void> read_exact(std::span<std::byte> buf);
    task<void> read_exact(std::span<char> buf) { return read_exact(std::as_writable_bytes(buf)); }
    /// Like read, but leaves the bytes in the socket (MSG_PEEK).
    task<std::size_t> peek(std::span<std::byte> buf);

    /// Writes at most buf.size() bytes (at least 1 unless buf is empty).
    task<std::size_t> write(std::span<const std::byte> buf);
    task<std::size_t> write(std::string_view s) { return write(std::as_bytes(std::span(s.data(), s.size()))); }
    /// Writes all of buf.
    task<void> write_all(std::span<const std::byte> buf);
    task<void> write_all(std::string_view s) { return write_all(std::as_bytes(std::span(s.data(), s.size()))); }
    /// Gathers several buffers into one send; returns the bytes written (may be partial).
    task<std::size_t> writev(std::span<const iovec> bufs);

    /// Completes when the socket is (or becomes) readable: data, end of stream or error.
    ready_wait readable() const {
        src_.check_open();
        return {src_, detail::interest_read};
    }
    /// Completes when the socket is (or becomes) writable.
    ready_wait writable() const {
        src_.check_open();
        return {src_, detail::interest_write};
    }
    /// Non-blocking attempts: nullopt when the socket would block (known not ready: no
    /// syscall at all).
    std::optional<std::size_t> try_read(std::span<std::byte> buf);
    std::optional<std::size_t> try_write(std::span<const std::byte> buf);

    /// Nothing is buffered in rill: completes at once.
    task<void> flush();
    /// Shuts down the write side (the peer reads end of stream).
    task<void> shutdown();
    /// The synchronous form of shutdown().
    void shutdown_write();

    /// Deregisters and closes the socket (waking any waiter with ECANCELED).
    void close() noexcept;
    bool is_open() const noexcept { return src_.is_open(); }
    int native_handle() const noexcept { return src_.fd(); }

protected:
    detail::io_source src_;

private:
    // Bytes a read took beyond the caller's buffer (see "Read-ahead" above). The lock
    // serialises readers (two tasks may read one socket at once): it is held across the
    // copy and the recv, never across a suspension.
    struct read_ahead {
        static constexpr std::size_t capacity = 16;
        static constexpr std::size_t max_request = 1024;  // larger reads use plain recv
        mutable detail::spin_lock lock;
        std::uint8_t off = 0;
        std::uint8_t len = 0;
        int error = 0;  // an errno that a read hit after it had taken read-ahead bytes
        std::byte data[capacity];

        read_ahead() noexcept = default;
        read_ahead(read_ahead&& o) noexcept { *this = std::move(o); }
        read_ahead& operator=(read_ahead&& o) noexcept {
            off = o.off;
            len = o.len;
            error = o.error;
            std::copy(std::begin(o.data), std::end(o.data), data);
            o.len = 0;
            o.error = 0;
            return *this;
        }
        /// Copies the held bytes that fit into buf (the caller holds the lock).
        std::size_t copy_to(std::span<std::byte> buf) const noexcept {
            const std::size_t k = std::min<std::size_t>(len, buf.size());
            std::copy_n(data + off, k, buf.data());
            return k;
        }
    };
    // io_uring ops (runtimes built with enable_io_uring(), see rill/detail/uring_op.hpp):
    // a recv whose bytes the next read takes before anything else, and a send that the
    // next write waits for. rop is guarded by ahead_.lock, wop by wlock. Released (and
    // cancelled if in flight) by close() and the destructor, before the fd is closed.
    struct ring_ops {
        // Atomic only so that a read or write can see "no op, no ring" without the lock
        // (the common case: io_uring off); every change happens under the lock.
        std::atomic<detail::uring_op*> rop{nullptr};
        std::atomic<detail::uring_op*> wop{nullptr};
        // Set first thing by close(): no new op may start on an fd about to be closed
        // (checked under the locks that close() takes next).
        std::atomic<bool> closing{false};
        detail::spin_lock wlock;
        ring_ops() noexcept = default;
        ring_ops(ring_ops&& o) noexcept
            : rop(o.rop.exchange(nullptr)), wop(o.wop.exchange(nullptr)), closing(o.closing.load()) {}
        ring_ops& operator=(ring_ops&& o) noexcept {
            if (this != &o) {
                release();
                rop.store(o.rop.exchange(nullptr));
                wop.store(o.wop.exchange(nullptr));
                closing.store(o.closing.load());
            }
            return *this;
        }
        ~ring_ops() { release(); }
        void release() noexcept {
            if (detail::uring_op* op = rop.exchange(nullptr)) detail::uring_release(op);
            if (detail::uring_op* op = wop.exchange(nullptr)) detail::uring_release(op);
        }
    };
    struct op_claim;
    // The socket's recv op for peek/try_read, claimed with a ref, if no one else waits on
    // it; with only_done, only a finished one (an unfinished one sets *in_flight).
    detail::uring_op* claim_held_read(bool* in_flight, bool only_done = false);
    // Waits for the send of an abandoned write (and the ones a racing writer leaves).
    task<void> settle_abandoned_send(const char* what);
    // The op a read should wait on (claimed, with a ref), or null: the readiness path.
    detail::uring_op* ring_read_begin(std::size_t len);
    // Takes the claimed op's bytes into buf (*n; 0: end of stream) and ends the claim.
    // False: nothing came (retry). Throws on an error.
    bool ring_read_finish(op_claim& c, std::span<std::byte> buf, std::size_t* n, const char* what);
    // The op a write should wait on: a send still in flight from an abandoned write
    // (*stale), or a new send of buf; null: the readiness path.
    detail::uring_op* ring_write_begin(std::span<const std::byte> buf, bool* stale);
    // The bytes the claimed send wrote (ends the claim). Throws on an error.
    std::size_t ring_write_finish(op_claim& c, const char* what);
    enum class read_step : std::uint8_t { done, would_block, interrupted };
    // One non-blocking read into buf (read-ahead first, then the socket): the bytes are
    // in *n (0 with done: end of stream). Throws on a socket error.
    read_step read_now(std::span<std::byte> buf, const detail::ready_event& ev, std::size_t* n, const char* what);
    read_ahead ahead_;
    ring_ops ring_;  // after src_: destroyed (its ops cancelled) before the fd is closed
};

}  // namespace rill::net
