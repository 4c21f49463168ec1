// rill::net::tcp_listener: a listening TCP socket (Tokio's TcpListener).
//
//     auto l = rill::net::tcp_listener::bind("127.0.0.1:0", {.reuse_port = true, .backlog = 4096});
//     for (;;) {
//         rill::net::tcp_accepted a = co_await l.accept();
//         rill::spawn(serve(std::move(a.stream)));
//     }
//
// bind() is synchronous (it never waits); it needs a runtime with I/O enabled on the
// calling thread. accept() returns the connection and the peer's address.
//
// A full fd table (EMFILE/ENFILE, or ENOBUFS/ENOMEM) does not make accept spin or throw:
// it reports once on stderr, sleeps (1 ms, doubling up to 1 s; needs enable_time, else it
// throws the error) and retries, so the listener recovers as soon as fds are freed.
// accept_backoffs() counts those sleeps.
//
// Cancel safety: accept is cancel-safe: a connection is never taken from the kernel's
// queue by an accept that is then destroyed.
// Resumes on: the awaiting task's worker.
// Thread safety: several tasks may accept on one listener at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "rill/net/socket_addr.hpp"
#include "rill/net/tcp_stream.hpp"

namespace rill::net {

struct bind_options {
    bool reuse_address = true;  // SO_REUSEADDR
    bool reuse_port = false;    // SO_REUSEPORT (several listeners share the port)
    int backlog = 1024;         // listen() backlog
};

struct tcp_accepted {
    tcp_stream stream;
    socket_addr peer;
};

class tcp_listener {
public:
    tcp_listener() noexcept = default;
    tcp_listener(tcp_listener&& o) noexcept
        : src_(std::move(o.src_)), backoffs_(o.backoffs_.load()), reported_(o.reported_.load()) {}
    tcp_listener& operator=(tcp_listener&& o) noexcept {
        src_ = std::move(o.src_);
        backoffs_.store(o.backoffs_.load());
        reported_.store(o.reported_.load());
        return *this;
    }

    /// Binds and listens. Throws std::system_error (EADDRINUSE, EACCES, ...).
    static tcp_listener bind(const socket_addr& addr, const bind_options& opts = {});
    /// "ip:port" (numeric); throws std::invalid_argument if it does not parse.
    static tcp_listener bind(std::string_view addr, const bind_options& opts = {});

    task<tcp_accepted> accept();
    socket_addr local_addr() const;
    std::uint64_t accept_backoffs() const noexcept { return backoffs_.load(std::memory_order_relaxed); }
    void close() noexcept { src_.close(); }
    int native_handle() const noexcept { return src_.fd(); }

private:
    detail::io_source src_;
    std::atomic<std::uint64_t> backoffs_{0};
    std::atomic<bool> reported_{false};
};

}  // namespace rill::net
