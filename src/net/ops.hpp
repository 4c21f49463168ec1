// Private coroutines shared by rill::net's sockets: accept with EMFILE back-off, and
// datagram send/recv (src/net/ops.cpp).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "rill/detail/io_source.hpp"
#include "rill/task.hpp"

namespace rill::net::ops {

/// Accepts one connection: the new fd (non-blocking, close-on-exec) and its peer address
/// in `ss`/`len`. Backs off on EMFILE/ENFILE/ENOBUFS/ENOMEM (see tcp_listener.hpp).
task<int> accept_fd(const detail::io_source& src, sockaddr_storage* ss, socklen_t* len,
                    std::atomic<std::uint64_t>* backoffs, std::atomic<bool>* reported);

/// recvfrom: the size, and the sender in `from` (when not null).
task<std::size_t> recv_from(const detail::io_source& src, std::span<std::byte> buf, sockaddr_storage* from,
                            socklen_t* from_len);
/// sendto (`to` null: the connected peer).
task<std::size_t> send_to(const detail::io_source& src, std::span<const std::byte> buf, const sockaddr* to,
                          socklen_t to_len);

}  // namespace rill::net::ops
