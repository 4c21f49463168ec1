// socket_addr: parsing and formatting through inet_pton / inet_ntop.
#include "rill/net/socket_addr.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <charconv>
#include <cstring>
#include <stdexcept>

#include "net/sys.hpp"

namespace rill::net {

namespace {
bool parse_ip(std::string_view ip, std::uint16_t port, sockaddr_storage& st, socklen_t& len) noexcept {
    char buf[INET6_ADDRSTRLEN + 1];
    if (ip.size() >= sizeof buf || ip.empty()) return false;
    std::memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    st = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&st);
    if (::inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(sockaddr_in);
        return true;
    }
    st = {};
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&st);
    if (::inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

/// The scope of a link-local IPv6 address ("%3" or "%eth0"); false when unknown.
bool parse_scope(std::string_view s, std::uint32_t& scope) noexcept {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), scope);
    if (ec == std::errc{} && p == s.data() + s.size()) return true;
    char name[IF_NAMESIZE + 1];
    if (s.size() >= sizeof name) return false;
    std::memcpy(name, s.data(), s.size());
    name[s.size()] = '\0';
    scope = ::if_nametoindex(name);
    return scope != 0;
}

const sockaddr_in6* as_v6(const sockaddr_storage& st) noexcept { return reinterpret_cast<const sockaddr_in6*>(&st); }
}  // namespace

namespace sys {
bool parse_port(std::string_view s, std::uint16_t& port) noexcept {
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}
}  // namespace sys
using sys::parse_port;

socket_addr::socket_addr() noexcept {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage_);
    v4->sin_family = AF_INET;
    len_ = sizeof(sockaddr_in);
}

socket_addr::socket_addr(const sockaddr* sa, socklen_t len) {
    if (sa == nullptr || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || len > sizeof storage_ ||
        (sa->sa_family == AF_INET && len < sizeof(sockaddr_in)) ||
        (sa->sa_family == AF_INET6 && len < sizeof(sockaddr_in6)))
        throw std::invalid_argument("rill::net::socket_addr: not an IPv4/IPv6 address");
    std::memcpy(&storage_, sa, len);
    len_ = sa->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

socket_addr::socket_addr(std::string_view ip, std::uint16_t port) {
    if (!parse_ip(ip, port, storage_, len_))
        throw std::invalid_argument("rill::net::socket_addr: not a numeric IP address: '" + std::string(ip) + "'");
}

std::optional<socket_addr> socket_addr::try_parse(std::string_view text) noexcept {
    std::string_view host;
    std::string_view port_s;
    std::string_view scope_s;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
        host = text.substr(1, close - 1);
        port_s = text.substr(close + 2);
        if (const auto pct = host.find('%'); pct != std::string_view::npos) {  // [fe80::1%2]:80
            scope_s = host.substr(pct + 1);
            host = host.substr(0, pct);
            if (scope_s.empty()) return std::nullopt;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
        port_s = text.substr(colon + 1);
    }
    std::uint16_t port = 0;
    if (!parse_port(port_s, port)) return std::nullopt;
    socket_addr a;
    if (!parse_ip(host, port, a.storage_, a.len_)) return std::nullopt;
    if (!scope_s.empty()) {
        std::uint32_t scope = 0;
        if (!a.is_ipv6() || !parse_scope(scope_s, scope)) return std::nullopt;
        reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_scope_id = scope;
    }
    return a;
}

socket_addr socket_addr::parse(std::string_view text) {
    auto a = try_parse(text);
    if (!a) throw std::invalid_argument("rill::net::socket_addr: cannot parse '" + std::string(text) +
                                        "' (expected \"ip:port\" or \"[ipv6]:port\")");
    return *a;
}

std::uint16_t socket_addr::port() const noexcept {
    if (is_ipv4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
}

void socket_addr::set_port(std::uint16_t port) noexcept {
    if (is_ipv4()) {
        reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    } else {
        reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
    }
}

std::string socket_addr::ip() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_ipv4()) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
    } else {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
    }
    return buf;
}

std::string socket_addr::to_string() const {
    std::string out;
    if (is_ipv6()) out.push_back('[');
    out.append(ip());
    if (is_ipv6()) {
        // The zone of a link-local address, numeric (Rust's SocketAddrV6 prints it too).
        if (const std::uint32_t scope = as_v6(storage_)->sin6_scope_id; scope != 0) {
            out.push_back('%');
            out.append(std::to_string(scope));
        }
        out.push_back(']');
    }
    out.push_back(':');
    out.append(std::to_string(port()));
    return out;
}

bool operator==(const socket_addr& a, const socket_addr& b) noexcept {
    if (a.len_ != b.len_ || a.family() != b.family() || a.port() != b.port()) return false;
    if (a.is_ipv4()) {
        return reinterpret_cast<const sockaddr_in*>(&a.storage_)->sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in*>(&b.storage_)->sin_addr.s_addr;
    }
    const sockaddr_in6* x = as_v6(a.storage_);
    const sockaddr_in6* y = as_v6(b.storage_);
    return std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
           x->sin6_scope_id == y->sin6_scope_id && x->sin6_flowinfo == y->sin6_flowinfo;
}

}  // namespace rill::net
