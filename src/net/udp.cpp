// udp_socket.
#include "rill/net/udp_socket.hpp"

#include "net/ops.hpp"
#include "net/sys.hpp"

namespace rill::net {

udp_socket udp_socket::bind(const socket_addr& addr) {
    const int fd = sys::make_socket(addr.family(), SOCK_DGRAM, "rill::net: socket");
    if (::bind(fd, addr.data(), addr.size()) < 0) {
        const int e = errno;
        ::close(fd);
        sys::throw_errno(e, "rill::net: bind");
    }
    udp_socket s;
    s.src_ = detail::io_source(fd);
    return s;
}

void udp_socket::connect(const socket_addr& peer) {
    src_.check_open();
    if (::connect(src_.fd(), peer.data(), peer.size()) < 0) sys::throw_errno(errno, "rill::net: connect");
}

task<std::size_t> udp_socket::send(std::span<const std::byte> buf) { return ops::send_to(src_, buf, nullptr, 0); }

task<std::size_t> udp_socket::recv(std::span<std::byte> buf) { return ops::recv_from(src_, buf, nullptr, nullptr); }

task<std::size_t> udp_socket::send_to(std::span<const std::byte> buf, socket_addr to) {
    co_return co_await ops::send_to(src_, buf, to.data(), to.size());
}

task<udp_received> udp_socket::recv_from(std::span<std::byte> buf) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const std::size_t n = co_await ops::recv_from(src_, buf, &ss, &len);
    co_return udp_received{n, socket_addr(reinterpret_cast<sockaddr*>(&ss), len)};
}

socket_addr udp_socket::local_addr() const {
    src_.check_open();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(src_.fd(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) sys::throw_errno(errno, "rill::net: local_addr");
    return socket_addr(reinterpret_cast<sockaddr*>(&ss), len);
}

socket_addr udp_socket::peer_addr() const {
    src_.check_open();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(src_.fd(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) sys::throw_errno(errno, "rill::net: peer_addr");
    return socket_addr(reinterpret_cast<sockaddr*>(&ss), len);
}

void udp_socket::set_broadcast(bool on) {
    src_.check_open();
    sys::set_flag(src_.fd(), SOL_SOCKET, SO_BROADCAST, on, "rill::net: set_broadcast");
}

}  // namespace rill::net
