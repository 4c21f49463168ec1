// rill::net::socket_addr: an IPv4 or IPv6 address with a port (Rust's SocketAddr).
//
//     auto a = rill::net::socket_addr::parse("127.0.0.1:8080");
//     auto b = rill::net::socket_addr::parse("[::1]:443");
//     auto c = rill::net::socket_addr::v4_any(0);          // 0.0.0.0:0
//     std::string s = a.to_string();                        // "127.0.0.1:8080"
//
// parse() accepts numeric addresses only (names go through net::lookup_host) and throws
// std::invalid_argument on anything else; an IPv6 zone is written "[fe80::1%2]:80" (or
// "%eth0" when parsing) and kept in to_string() and ==. A socket_addr is a plain value (a
// sockaddr_storage and its length): copy it freely.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rill::net {

class socket_addr {
public:
    /// 0.0.0.0:0.
    socket_addr() noexcept;
    /// From a raw sockaddr (AF_INET or AF_INET6); throws std::invalid_argument otherwise.
    socket_addr(const sockaddr* sa, socklen_t len);
    /// A numeric IP ("10.0.0.1", "::1") and a port; throws std::invalid_argument.
    socket_addr(std::string_view ip, std::uint16_t port);

    /// "a.b.c.d:port" or "[v6]:port"; throws std::invalid_argument.
    static socket_addr parse(std::string_view text);
    /// As parse(), or nullopt.
    static std::optional<socket_addr> try_parse(std::string_view text) noexcept;
    static socket_addr v4_loopback(std::uint16_t port) { return socket_addr("127.0.0.1", port); }
    static socket_addr v4_any(std::uint16_t port) { return socket_addr("0.0.0.0", port); }
    static socket_addr v6_loopback(std::uint16_t port) { return socket_addr("::1", port); }

    bool is_ipv4() const noexcept { return storage_.ss_family == AF_INET; }
    bool is_ipv6() const noexcept { return storage_.ss_family == AF_INET6; }
    std::uint16_t port() const noexcept;
    void set_port(std::uint16_t port) noexcept;
    /// The address without the port ("127.0.0.1", "::1").
    std::string ip() const;
    /// "127.0.0.1:8080" / "[::1]:8080".
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    int family() const noexcept { return storage_.ss_family; }

    friend bool operator==(const socket_addr& a, const socket_addr& b) noexcept;

private:
    sockaddr_storage storage_{};
    socklen_t len_ = 0;
};

}  // namespace rill::net
