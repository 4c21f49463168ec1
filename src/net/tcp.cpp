// tcp_stream, tcp_listener and lookup_host.
#include <netdb.h>
#include <netinet/tcp.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>

#include "net/ops.hpp"
#include "net/sys.hpp"
#include "rill/net/lookup_host.hpp"
#include "rill/net/tcp_listener.hpp"
#include "rill/net/tcp_stream.hpp"
#include "rill/runtime/spawn.hpp"
#include "rill/time/sleep.hpp"
#include "runtime/context.hpp"
#include "runtime/runtime_inner.hpp"

namespace rill::net {

namespace {
socket_addr name_of(int fd, bool peer, const char* what) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                       : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (r < 0) sys::throw_errno(errno, what);
    return socket_addr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace

// --- tcp_stream -------------------------------------------------------------------------

task<tcp_stream> tcp_stream::connect(socket_addr addr) {
    const int fd = sys::make_socket(addr.family(), SOCK_STREAM, "rill::net: socket");
    // Register only once connect() has started: epoll reports an unconnected socket as
    // hung up, and that sticky bit would make every later read spin.
    const bool done = ::connect(fd, addr.data(), addr.size()) == 0;
    if (!done && errno != EINPROGRESS) {
        const int e = errno;
        ::close(fd);
        sys::throw_errno(e, "rill::net: connect");
    }
    detail::io_source src(fd);
    if (done) co_return tcp_stream(std::move(src));
    for (;;) {
        const detail::ready_event ev = co_await src.ready(detail::interest_write);
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(src.fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) sys::throw_errno(errno, "rill::net: connect");
        if (err != 0) sys::throw_errno(err, "rill::net: connect");
        sockaddr_storage ss{};
        socklen_t sl = sizeof ss;
        if (::getpeername(src.fd(), reinterpret_cast<sockaddr*>(&ss), &sl) == 0) break;
        if (errno != ENOTCONN) sys::throw_errno(errno, "rill::net: connect");
        src.clear_readiness(ev);  // not connected yet: a spurious wake
    }
    co_return tcp_stream(std::move(src));
}

task<tcp_stream> tcp_stream::connect(std::vector<socket_addr> addrs) {
    if (addrs.empty()) throw std::invalid_argument("rill::net::tcp_stream::connect: no address to connect to");
    std::exception_ptr last;
    for (const socket_addr& a : addrs) {
        try {
            co_return co_await connect(a);
        } catch (const std::system_error&) {
            last = std::current_exception();
        }
    }
    std::rethrow_exception(last);
}

task<tcp_stream> tcp_stream::connect(std::string host_port) {
    std::vector<socket_addr> addrs = co_await lookup_host(std::move(host_port));
    co_return co_await connect(std::move(addrs));
}

void tcp_stream::set_nodelay(bool on) {
    src_.check_open();
    sys::set_flag(src_.fd(), IPPROTO_TCP, TCP_NODELAY, on, "rill::net: set_nodelay");
}

bool tcp_stream::nodelay() const {
    src_.check_open();
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(src_.fd(), IPPROTO_TCP, TCP_NODELAY, &v, &len) < 0) sys::throw_errno(errno, "rill::net: nodelay");
    return v != 0;
}

socket_addr tcp_stream::local_addr() const {
    src_.check_open();
    return name_of(src_.fd(), false, "rill::net: local_addr");
}

socket_addr tcp_stream::peer_addr() const {
    src_.check_open();
    return name_of(src_.fd(), true, "rill::net: peer_addr");
}

std::pair<tcp_read_half, tcp_write_half> tcp_stream::into_split() && {
    auto shared = std::make_shared<tcp_stream>(std::move(*this));
    return {tcp_read_half(shared), tcp_write_half(shared)};
}

tcp_write_half& tcp_write_half::operator=(tcp_write_half&& o) noexcept {
    if (this != &o) {
        tcp_write_half old(std::move(*this));
        s_ = std::move(o.s_);
    }
    return *this;
}

tcp_write_half::~tcp_write_half() {
    if (s_ && s_->is_open()) {
        try {
            s_->shutdown_write();
        } catch (...) {  // already reset by the peer: nothing to shut down
        }
    }
}

// --- tcp_listener -----------------------------------------------------------------------

tcp_listener tcp_listener::bind(const socket_addr& addr, const bind_options& opts) {
    if (opts.backlog <= 0) throw std::invalid_argument("rill::net::tcp_listener::bind: backlog must be positive");
    const int fd = sys::make_socket(addr.family(), SOCK_STREAM, "rill::net: socket");
    try {
        if (opts.reuse_address) sys::set_flag(fd, SOL_SOCKET, SO_REUSEADDR, true, "rill::net: SO_REUSEADDR");
        if (opts.reuse_port) sys::set_flag(fd, SOL_SOCKET, SO_REUSEPORT, true, "rill::net: SO_REUSEPORT");
        if (::bind(fd, addr.data(), addr.size()) < 0) sys::throw_errno(errno, "rill::net: bind");
        if (::listen(fd, opts.backlog) < 0) sys::throw_errno(errno, "rill::net: listen");
    } catch (...) {
        ::close(fd);
        throw;
    }
    tcp_listener l;
    l.src_ = detail::io_source(fd);
    return l;
}

tcp_listener tcp_listener::bind(std::string_view addr, const bind_options& opts) {
    return bind(socket_addr::parse(addr), opts);
}

socket_addr tcp_listener::local_addr() const {
    src_.check_open();
    return name_of(src_.fd(), false, "rill::net: local_addr");
}

task<tcp_accepted> tcp_listener::accept() {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = co_await ops::accept_fd(src_, &ss, &len, &backoffs_, &reported_);
    // The peer address first: if registering fails, io_source closes fd (once).
    socket_addr peer(reinterpret_cast<sockaddr*>(&ss), len);
    co_return tcp_accepted{tcp_stream(detail::io_source(fd)), peer};
}

// --- lookup_host ------------------------------------------------------------------------

namespace {
class gai_category_t final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int ev) const override { return ::gai_strerror(ev); }
};
const gai_category_t gai_category_v;

std::vector<socket_addr> resolve(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;  // a port number, never a service name (as Tokio)
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        if (rc == EAI_SYSTEM) sys::throw_errno(errno, "rill::net::lookup_host");
        throw std::system_error(rc, gai_category_v, "rill::net::lookup_host: " + host);
    }
    std::vector<socket_addr> out;
    for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
        if (p->ai_family == AF_INET || p->ai_family == AF_INET6) out.emplace_back(p->ai_addr, p->ai_addrlen);
    }
    ::freeaddrinfo(res);
    return out;
}
}  // namespace

task<std::vector<socket_addr>> lookup_host(std::string host_port) {
    if (auto a = socket_addr::try_parse(host_port)) co_return std::vector<socket_addr>{*a};
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos || colon + 1 == host_port.size())
        throw std::invalid_argument("rill::net::lookup_host: expected \"host:port\", got '" + host_port + "'");
    std::string host = host_port.substr(0, colon);
    std::string port = host_port.substr(colon + 1);
    // getaddrinfo would wrap a port above 65535 (70000 -> 4464) and dial the wrong one.
    if (std::uint16_t p = 0; !sys::parse_port(port, p))
        throw std::invalid_argument("rill::net::lookup_host: invalid port in '" + host_port + "' (0..65535)");
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    auto handle = rill::spawn_blocking([host = std::move(host), port = std::move(port)] { return resolve(host, port); });
    std::vector<socket_addr> out = co_await handle;
    co_return out;
}

}  // namespace rill::net
