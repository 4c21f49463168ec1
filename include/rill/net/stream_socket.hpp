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
// Cancel safety: every operation is cancel-safe in the sense that destroying the awaiting
// coroutine while it waits for readiness loses nothing (no bytes were transferred yet).
// write_all/read_exact destroyed midway may have transferred part of the buffer.
// Resumes on: the awaiting task's worker.
// Thread safety: one task may read while another writes (see into_split()); two tasks
// reading at once, or writing at once, interleave unpredictably but safely. close() may
// run while another task waits: that operation throws ECANCELED.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "rill/detail/io_source.hpp"
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
    stream_socket& operator=(stream_socket&&) noexcept = default;

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
    void close() noexcept { src_.close(); }
    bool is_open() const noexcept { return src_.is_open(); }
    int native_handle() const noexcept { return src_.fd(); }

protected:
    detail::io_source src_;
};

}  // namespace rill::net
