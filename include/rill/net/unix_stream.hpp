// rill::net::unix_stream and unix_listener: Unix-domain stream sockets (Tokio's
// UnixStream / UnixListener).
//
//     auto l = rill::net::unix_listener::bind("/tmp/app.sock");
//     auto c = co_await rill::net::unix_stream::connect("/tmp/app.sock");
//     rill::net::unix_accepted a = co_await l.accept();
//     auto [x, y] = rill::net::unix_stream::pair();   // connected, unnamed
//
// Paths longer than sun_path (107 bytes) throw std::invalid_argument. A leading '\0'
// names an abstract socket (Linux). bind() does not remove an existing file: remove it
// first (EADDRINUSE otherwise). Read/write operations, errors and cancel safety are
// those of stream_socket; accept backs off at a full fd table as tcp_listener does.
//
// Resumes on: the awaiting task's worker.
// Thread safety: as stream_socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "rill/net/stream_socket.hpp"

namespace rill::net {

class unix_stream : public stream_socket {
public:
    unix_stream() noexcept = default;
    explicit unix_stream(detail::io_source src) noexcept : stream_socket(std::move(src)) {}

    /// Connects to the socket at `path`. Throws std::system_error (ENOENT, ECONNREFUSED...).
    static task<unix_stream> connect(std::string path);
    /// A connected pair (socketpair).
    static std::pair<unix_stream, unix_stream> pair();

    /// The path this end is bound to ("" when unnamed).
    std::string local_path() const;
    /// The path of the peer ("" when unnamed).
    std::string peer_path() const;
};

struct unix_accepted {
    unix_stream stream;
    std::string peer_path;  // usually "": clients are rarely bound
};

class unix_listener {
public:
    unix_listener() noexcept = default;
    unix_listener(unix_listener&& o) noexcept
        : src_(std::move(o.src_)), backoffs_(o.backoffs_.load()), reported_(o.reported_.load()) {}
    unix_listener& operator=(unix_listener&& o) noexcept {
        src_ = std::move(o.src_);
        backoffs_.store(o.backoffs_.load());
        reported_.store(o.reported_.load());
        return *this;
    }

    static unix_listener bind(const std::string& path, int backlog = 1024);
    task<unix_accepted> accept();
    std::string local_path() const;
    std::uint64_t accept_backoffs() const noexcept { return backoffs_.load(std::memory_order_relaxed); }
    void close() noexcept { src_.close(); }

private:
    detail::io_source src_;
    std::atomic<std::uint64_t> backoffs_{0};
    std::atomic<bool> reported_{false};
};

}  // namespace rill::net
