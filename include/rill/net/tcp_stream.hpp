// rill::net::tcp_stream: a connected TCP socket (Tokio's TcpStream).
//
//     auto s = co_await rill::net::tcp_stream::connect(rill::net::socket_addr::parse("127.0.0.1:8080"));
//     auto s2 = co_await rill::net::tcp_stream::connect("localhost:8080");   // resolves, tries each
//     s.set_nodelay(true);
//     co_await s.write_all("ping");
//     auto [rd, wr] = std::move(s).into_split();   // (not across a co_await: plain values)
//
// Read/write/readiness operations come from stream_socket (see there for errors and
// cancel safety). into_split() gives owned halves that two tasks may use at once; the
// socket closes when both are gone, and dropping the write half shuts down the write side.
//
// Cancel safety: connect destroyed while in progress closes the half-open socket.
// Resumes on: the awaiting task's worker.
// Thread safety: as stream_socket; the halves are used by one task each.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rill/net/socket_addr.hpp"
#include "rill/net/stream_socket.hpp"

namespace rill::net {

class tcp_read_half;
class tcp_write_half;

class tcp_stream : public stream_socket {
public:
    tcp_stream() noexcept = default;
    /// Adopts a connected socket already registered with the driver.
    explicit tcp_stream(detail::io_source src) noexcept : stream_socket(std::move(src)) {}

    /// Connects to `addr`. Throws std::system_error (ECONNREFUSED, ETIMEDOUT, ...).
    static task<tcp_stream> connect(socket_addr addr);
    /// Tries each address in order; returns the first connection that succeeds, or throws
    /// the last error (std::invalid_argument if `addrs` is empty).
    static task<tcp_stream> connect(std::vector<socket_addr> addrs);
    /// Resolves "host:port" (net::lookup_host) and connects to the first address that works.
    static task<tcp_stream> connect(std::string host_port);

    void set_nodelay(bool on);
    bool nodelay() const;
    socket_addr local_addr() const;
    socket_addr peer_addr() const;

    /// Owned read and write halves over the same socket.
    std::pair<tcp_read_half, tcp_write_half> into_split() &&;
};

/// The read side of a split tcp_stream.
class tcp_read_half {
public:
    tcp_read_half() noexcept = default;
    task<std::size_t> read(std::span<std::byte> buf) { return s_->read(buf); }
    task<std::size_t> read(std::span<char> buf) { return s_->read(buf); }
    task<void> read_exact(std::span<std::byte> buf) { return s_->read_exact(buf); }
    task<void> read_exact(std::span<char> buf) { return s_->read_exact(buf); }
    task<std::size_t> peek(std::span<std::byte> buf) { return s_->peek(buf); }
    ready_wait readable() const { return s_->readable(); }
    socket_addr local_addr() const { return s_->local_addr(); }
    socket_addr peer_addr() const { return s_->peer_addr(); }

private:
    friend class tcp_stream;
    explicit tcp_read_half(std::shared_ptr<tcp_stream> s) noexcept : s_(std::move(s)) {}
    std::shared_ptr<tcp_stream> s_;
};

/// The write side of a split tcp_stream; shuts down the write side when destroyed.
class tcp_write_half {
public:
    tcp_write_half() noexcept = default;
    tcp_write_half(tcp_write_half&&) noexcept = default;
    tcp_write_half& operator=(tcp_write_half&& o) noexcept;
    ~tcp_write_half();

    task<std::size_t> write(std::span<const std::byte> buf) { return s_->write(buf); }
    task<std::size_t> write(std::string_view s) { return s_->write(s); }
    task<void> write_all(std::span<const std::byte> buf) { return s_->write_all(buf); }
    task<void> write_all(std::string_view s) { return s_->write_all(s); }
    task<std::size_t> writev(std::span<const iovec> bufs) { return s_->writev(bufs); }
    ready_wait writable() const { return s_->writable(); }
    task<void> flush() { return s_->flush(); }
    task<void> shutdown() { return s_->shutdown(); }
    socket_addr local_addr() const { return s_->local_addr(); }
    socket_addr peer_addr() const { return s_->peer_addr(); }

private:
    friend class tcp_stream;
    explicit tcp_write_half(std::shared_ptr<tcp_stream> s) noexcept : s_(std::move(s)) {}
    std::shared_ptr<tcp_stream> s_;
};

}  // namespace rill::net
