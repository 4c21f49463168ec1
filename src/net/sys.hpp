// Small socket helpers shared by src/net/*.cpp (private).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace rill::net::sys {

[[noreturn]] inline void throw_errno(int e, const char* what) {
    throw std::system_error(e, std::generic_category(), what);
}

/// A non-blocking, close-on-exec socket; throws std::system_error.
inline int make_socket(int family, int type, const char* what) {
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno(errno, what);
    return fd;
}

/// A decimal port 0..65535 (digits only); false otherwise. (socket_addr.cpp)
bool parse_port(std::string_view s, std::uint16_t& port) noexcept;

inline void set_flag(int fd, int level, int opt, bool on, const char* what) {
    const int v = on ? 1 : 0;
    if (::setsockopt(fd, level, opt, &v, sizeof v) < 0) throw_errno(errno, what);
}

}  // namespace rill::net::sys
