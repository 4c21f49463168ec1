// rill::io::duplex: two connected in-memory byte streams (Tokio's tokio::io::duplex).
//
//     auto [client, server] = rill::io::duplex(64 * 1024);
//     co_await rill::io::write_all(client, rill::io::as_bytes("ping"));
//     std::size_t n = co_await server.read(buf);     // "ping"
//
// What one end writes, the other reads, in order. Each direction buffers at most
// `max_buf` bytes: a write stores what fits and returns that count (partial), and waits
// only while the buffer is full (backpressure). A read returns what is buffered (at
// least one byte) and waits only while the buffer is empty. shutdown() ends the write
// direction: the peer reads what is buffered, then 0 (EOF). Destroying an end is a
// shutdown of its write side plus a close of its read side: the peer reads EOF after
// the buffered bytes, and the peer's writes throw std::system_error(EPIPE). A write
// after this end's own shutdown throws EPIPE as well. flush() has nothing to do.
// duplex_stream satisfies rill::io::async_read and rill::io::async_write.
//
// Cancel safety: read and write are cancel-safe. A read or write destroyed while
// waiting (or woken but not yet resumed) transferred nothing: the bytes stay in the
// buffer, or were never taken from the caller's span.
// Resumes on: the awaiting task's worker.
// Thread safety: the two ends may be used from different threads. One end may have one
// read and one write in flight at once (in two tasks, e.g. through rill::io::split);
// two reads (or two writes) in flight at once on the same end throw std::logic_error.
// The stream must outlive the read or write awaitables it returned.
#pragma once

#include <coroutine>
#include <cstddef>
#include <span>
#include <utility>

#include "rill/detail/waiter.hpp"
#include "rill/io/traits.hpp"

namespace rill::io {

namespace detail {
struct duplex_pipe;
struct duplex_inner;

/// One step of a read: completes (true, n set) or, with a node, registers it (false).
bool duplex_read_step(duplex_pipe* p, std::span<std::byte> buf, std::size_t& n, const void* who,
                      rill::detail::wake_node* node);
/// One step of a write: completes (true, n or err set) or registers `node` (false).
bool duplex_write_step(duplex_pipe* p, std::span<const std::byte> buf, std::size_t& n, int& err, const void* who,
                       rill::detail::wake_node* node);
/// Withdraws a registered reader / writer (destructor of a waiting awaiter).
void duplex_withdraw_reader(duplex_pipe* p, const void* who) noexcept;
void duplex_withdraw_writer(duplex_pipe* p, const void* who) noexcept;
[[noreturn]] void duplex_throw(int err);
void duplex_shutdown_write(duplex_pipe* p) noexcept;
}  // namespace detail

class duplex_stream;

/// The awaitable of duplex_stream::read.
class [[nodiscard]] duplex_read_awaiter {
public:
    duplex_read_awaiter(detail::duplex_pipe* p, std::span<std::byte> buf) noexcept : pipe_(p), buf_(buf) {}
    /// Only an awaiter that is not waiting may move.
    duplex_read_awaiter(duplex_read_awaiter&& o) noexcept : pipe_(o.pipe_), buf_(o.buf_), n_(o.n_), done_(o.done_) {}
    duplex_read_awaiter(const duplex_read_awaiter&) = delete;
    ~duplex_read_awaiter() {
        if (registered_) detail::duplex_withdraw_reader(pipe_, this);
    }

    bool await_ready() {
        done_ = detail::duplex_read_step(pipe_, buf_, n_, this, nullptr);
        return done_;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = rill::detail::counted_node(h);
        done_ = detail::duplex_read_step(pipe_, buf_, n_, this, node);
        registered_ = !done_;
        return registered_;
    }
    std::size_t await_resume() {
        if (!done_) {
            registered_ = false;  // the waker unregistered us before waking
            done_ = detail::duplex_read_step(pipe_, buf_, n_, this, nullptr);
        }
        return n_;
    }

private:
    detail::duplex_pipe* pipe_;
    std::span<std::byte> buf_;
    std::size_t n_ = 0;
    bool done_ = false;
    bool registered_ = false;
};

/// The awaitable of duplex_stream::write.
class [[nodiscard]] duplex_write_awaiter {
public:
    duplex_write_awaiter(detail::duplex_pipe* p, std::span<const std::byte> buf) noexcept : pipe_(p), buf_(buf) {}
    duplex_write_awaiter(duplex_write_awaiter&& o) noexcept
        : pipe_(o.pipe_), buf_(o.buf_), n_(o.n_), err_(o.err_), done_(o.done_) {}
    duplex_write_awaiter(const duplex_write_awaiter&) = delete;
    ~duplex_write_awaiter() {
        if (registered_) detail::duplex_withdraw_writer(pipe_, this);
    }

    bool await_ready() {
        done_ = detail::duplex_write_step(pipe_, buf_, n_, err_, this, nullptr);
        return done_;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = rill::detail::counted_node(h);
        done_ = detail::duplex_write_step(pipe_, buf_, n_, err_, this, node);
        registered_ = !done_;
        return registered_;
    }
    std::size_t await_resume() {
        if (!done_) {
            registered_ = false;
            done_ = detail::duplex_write_step(pipe_, buf_, n_, err_, this, nullptr);
        }
        if (err_ != 0) detail::duplex_throw(err_);
        return n_;
    }

private:
    detail::duplex_pipe* pipe_;
    std::span<const std::byte> buf_;
    std::size_t n_ = 0;
    int err_ = 0;
    bool done_ = false;
    bool registered_ = false;
};

/// The awaitable of duplex_stream::shutdown (shuts the write side when awaited).
class [[nodiscard]] duplex_shutdown_awaiter {
public:
    explicit duplex_shutdown_awaiter(detail::duplex_pipe* p) noexcept : pipe_(p) {}
    bool await_ready() const noexcept {
        detail::duplex_shutdown_write(pipe_);
        return true;
    }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}

private:
    detail::duplex_pipe* pipe_;
};

/// One end of a duplex pair.
class duplex_stream {
public:
    duplex_stream(duplex_stream&& o) noexcept : inner_(std::exchange(o.inner_, nullptr)), side_(o.side_) {}
    duplex_stream& operator=(duplex_stream&& o) noexcept;
    duplex_stream(const duplex_stream&) = delete;
    duplex_stream& operator=(const duplex_stream&) = delete;
    ~duplex_stream();

    /// Reads at least one byte into `buf` (waits while nothing is buffered); 0 at EOF.
    duplex_read_awaiter read(std::span<std::byte> buf) noexcept { return {in(), buf}; }
    /// Writes what fits of `buf` (waits while the buffer is full); throws EPIPE when the
    /// peer is gone or this end was shut down.
    duplex_write_awaiter write(std::span<const std::byte> buf) noexcept { return {out(), buf}; }
    /// Nothing to flush: ready at once.
    ready_void flush() const noexcept { return {}; }
    /// Ends this end's write direction: the peer reads EOF after the buffered bytes.
    duplex_shutdown_awaiter shutdown() noexcept { return duplex_shutdown_awaiter(out()); }

private:
    friend std::pair<duplex_stream, duplex_stream> duplex(std::size_t max_buf);
    duplex_stream(detail::duplex_inner* inner, int side) noexcept : inner_(inner), side_(side) {}
    detail::duplex_pipe* in() const noexcept;
    detail::duplex_pipe* out() const noexcept;
    void close() noexcept;

    detail::duplex_inner* inner_;
    int side_;
};

/// A connected pair; each direction buffers at most `max_buf` bytes (> 0, else
/// std::invalid_argument).
std::pair<duplex_stream, duplex_stream> duplex(std::size_t max_buf);

}  // namespace rill::io
