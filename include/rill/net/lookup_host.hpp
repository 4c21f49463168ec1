// rill::net::lookup_host: name resolution through getaddrinfo on the blocking pool.
//
//     std::vector<rill::net::socket_addr> addrs = co_await rill::net::lookup_host("localhost:8080");
//
// Accepts "host:port" and "[v6]:port"; a numeric address is returned without a lookup.
// The port is a decimal number 0..65535 (no service names, as Tokio). Throws
// std::invalid_argument for text without a valid port and std::system_error (category
// naming getaddrinfo's error) when the name does not resolve.
//
// Cancel safety: destroying the awaiting coroutine abandons the lookup (the blocking
// thread finishes it and drops the result).
// Resumes on: the awaiting task's worker.
#pragma once

#include <string>
#include <vector>

#include "rill/net/socket_addr.hpp"
#include "rill/task.hpp"

namespace rill::net {

task<std::vector<socket_addr>> lookup_host(std::string host_port);

}  // namespace rill::net
