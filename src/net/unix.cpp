// unix_stream, unix_listener, unix_datagram.
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "net/ops.hpp"
#include "net/sys.hpp"
#include "rill/net/unix_datagram.hpp"
#include "rill/net/unix_stream.hpp"

namespace rill::net {

namespace {
socklen_t make_addr(const std::string& path, sockaddr_un& a) {
    a = {};
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof a.sun_path)
        throw std::invalid_argument("rill::net: unix socket path is empty or longer than " +
                                    std::to_string(sizeof a.sun_path - 1) + " bytes");
    std::memcpy(a.sun_path, path.data(), path.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '\0' ? 0 : 1));
}

std::string path_of(const sockaddr_storage& ss, socklen_t len) {
    const auto& a = reinterpret_cast<const sockaddr_un&>(ss);
    if (len <= offsetof(sockaddr_un, sun_path)) return {};
    std::size_t n = len - offsetof(sockaddr_un, sun_path);
    if (a.sun_path[0] != '\0') n = ::strnlen(a.sun_path, n);  // abstract names keep their '\0'
    return std::string(a.sun_path, n);
}

std::string name_of(int fd, bool peer, const char* what) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                       : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (r < 0) sys::throw_errno(errno, what);
    return path_of(ss, len);
}

int bound_socket(int type, const std::string& path) {
    sockaddr_un a;
    const socklen_t len = make_addr(path, a);
    const int fd = sys::make_socket(AF_UNIX, type, "rill::net: socket");
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) < 0) {
        const int e = errno;
        ::close(fd);
        sys::throw_errno(e, "rill::net: bind");
    }
    return fd;
}

void socket_pair(int type, int out[2]) {
    if (::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, out) < 0) sys::throw_errno(errno, "rill::net: socketpair");
}
}  // namespace

// --- unix_stream --------------------------------------------------------------------------

task<unix_stream> unix_stream::connect(std::string path) {
    sockaddr_un a;
    const socklen_t len = make_addr(path, a);
    const int fd = sys::make_socket(AF_UNIX, SOCK_STREAM, "rill::net: socket");
    // Registered after connect() started (see tcp_stream::connect).
    const bool done = ::connect(fd, reinterpret_cast<sockaddr*>(&a), len) == 0;
    if (!done && errno != EINPROGRESS) {  // EAGAIN: the backlog is full, nothing was queued
        const int e = errno;
        ::close(fd);
        sys::throw_errno(e, "rill::net: connect");
    }
    detail::io_source src(fd);
    if (!done) {
        co_await src.ready(detail::interest_write);
        int err = 0;
        socklen_t el = sizeof err;
        if (::getsockopt(src.fd(), SOL_SOCKET, SO_ERROR, &err, &el) < 0) sys::throw_errno(errno, "rill::net: connect");
        if (err != 0) sys::throw_errno(err, "rill::net: connect");
    }
    co_return unix_stream(std::move(src));
}

std::pair<unix_stream, unix_stream> unix_stream::pair() {
    int fds[2];
    socket_pair(SOCK_STREAM, fds);
    detail::io_source a;
    try {
        a = detail::io_source(fds[0]);
    } catch (...) {
        ::close(fds[1]);
        throw;
    }
    return {unix_stream(std::move(a)), unix_stream(detail::io_source(fds[1]))};
}

std::string unix_stream::local_path() const {
    src_.check_open();
    return name_of(src_.fd(), false, "rill::net: local_path");
}

std::string unix_stream::peer_path() const {
    src_.check_open();
    return name_of(src_.fd(), true, "rill::net: peer_path");
}

// --- unix_listener ------------------------------------------------------------------------

unix_listener unix_listener::bind(const std::string& path, int backlog) {
    if (backlog <= 0) throw std::invalid_argument("rill::net::unix_listener::bind: backlog must be positive");
    const int fd = bound_socket(SOCK_STREAM, path);
    if (::listen(fd, backlog) < 0) {
        const int e = errno;
        ::close(fd);
        sys::throw_errno(e, "rill::net: listen");
    }
    unix_listener l;
    l.src_ = detail::io_source(fd);
    return l;
}

task<unix_accepted> unix_listener::accept() {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = co_await ops::accept_fd(src_, &ss, &len, &backoffs_, &reported_);
    std::string peer = path_of(ss, len);
    co_return unix_accepted{unix_stream(detail::io_source(fd)), std::move(peer)};
}

std::string unix_listener::local_path() const {
    src_.check_open();
    return name_of(src_.fd(), false, "rill::net: local_path");
}

// --- unix_datagram ------------------------------------------------------------------------

unix_datagram unix_datagram::bind(const std::string& path) {
    unix_datagram d;
    d.src_ = detail::io_source(bound_socket(SOCK_DGRAM, path));
    return d;
}

unix_datagram unix_datagram::unbound() {
    unix_datagram d;
    d.src_ = detail::io_source(sys::make_socket(AF_UNIX, SOCK_DGRAM, "rill::net: socket"));
    return d;
}

std::pair<unix_datagram, unix_datagram> unix_datagram::pair() {
    int fds[2];
    socket_pair(SOCK_DGRAM, fds);
    unix_datagram a, b;
    try {
        a.src_ = detail::io_source(fds[0]);
    } catch (...) {
        ::close(fds[1]);
        throw;
    }
    b.src_ = detail::io_source(fds[1]);
    return {std::move(a), std::move(b)};
}

void unix_datagram::connect(const std::string& path) {
    src_.check_open();
    sockaddr_un a;
    const socklen_t len = make_addr(path, a);
    if (::connect(src_.fd(), reinterpret_cast<sockaddr*>(&a), len) < 0) sys::throw_errno(errno, "rill::net: connect");
}

task<std::size_t> unix_datagram::send(std::span<const std::byte> buf) { return ops::send_to(src_, buf, nullptr, 0); }

task<std::size_t> unix_datagram::recv(std::span<std::byte> buf) { return ops::recv_from(src_, buf, nullptr, nullptr); }

task<std::size_t> unix_datagram::send_to(std::span<const std::byte> buf, std::string path) {
    sockaddr_un a;
    const socklen_t len = make_addr(path, a);
    co_return co_await ops::send_to(src_, buf, reinterpret_cast<sockaddr*>(&a), len);
}

task<unix_received> unix_datagram::recv_from(std::span<std::byte> buf) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const std::size_t n = co_await ops::recv_from(src_, buf, &ss, &len);
    co_return unix_received{n, path_of(ss, len)};
}

std::string unix_datagram::local_path() const {
    src_.check_open();
    return name_of(src_.fd(), false, "rill::net: local_path");
}

}  // namespace rill::net
