// rill::net::udp_socket: a UDP socket (Tokio's UdpSocket).
//
//     auto s = rill::net::udp_socket::bind("127.0.0.1:0");
//     co_await s.send_to(bytes, peer);
//     rill::net::udp_received r = co_await s.recv_from(buf);   // r.size, r.peer
//     s.connect(peer);                                          // then send / recv
//
// bind() and connect() never wait (UDP connect only sets the default peer). A datagram
// larger than the buffer is truncated (the rest is discarded, as recvfrom does).
// Errors throw std::system_error with the errno (ECONNREFUSED on a connected socket
// whose peer has no listener, ...).
//
// Cancel safety: send/recv are cancel-safe: a datagram is taken or sent only in the
// same step that completes the await.
// Resumes on: the awaiting task's worker.
// Thread safety: one task may send while another receives.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "rill/detail/io_source.hpp"
#include "rill/net/socket_addr.hpp"
#include "rill/task.hpp"

namespace rill::net {

struct udp_received {
    std::size_t size;
    socket_addr peer;
};

class udp_socket {
public:
    udp_socket() noexcept = default;

    /// Binds a new socket; throws std::system_error.
    static udp_socket bind(const socket_addr& addr);
    static udp_socket bind(std::string_view addr) { return bind(socket_addr::parse(addr)); }

    /// Sets the default peer (and filters datagrams from others).
    void connect(const socket_addr& peer);

    task<std::size_t> send(std::span<const std::byte> buf);
    task<std::size_t> send(std::string_view s) { return send(std::as_bytes(std::span(s.data(), s.size()))); }
    task<std::size_t> recv(std::span<std::byte> buf);
    task<std::size_t> recv(std::span<char> buf) { return recv(std::as_writable_bytes(buf)); }
    task<std::size_t> send_to(std::span<const std::byte> buf, socket_addr to);
    task<std::size_t> send_to(std::string_view s, socket_addr to) {
        return send_to(std::as_bytes(std::span(s.data(), s.size())), to);
    }
    task<udp_received> recv_from(std::span<std::byte> buf);
    task<udp_received> recv_from(std::span<char> buf) { return recv_from(std::as_writable_bytes(buf)); }

    socket_addr local_addr() const;
    socket_addr peer_addr() const;
    void set_broadcast(bool on);
    void close() noexcept { src_.close(); }
    int native_handle() const noexcept { return src_.fd(); }

private:
    detail::io_source src_;
};

}  // namespace rill::net
