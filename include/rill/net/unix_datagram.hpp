// rill::net::unix_datagram: a Unix-domain datagram socket (Tokio's UnixDatagram).
//
//     auto server = rill::net::unix_datagram::bind("/tmp/app.dgram");
//     auto client = rill::net::unix_datagram::unbound();
//     co_await client.send_to("hello", "/tmp/app.dgram");
//     rill::net::unix_received r = co_await server.recv_from(buf);   // r.size, r.peer_path
//     auto [a, b] = rill::net::unix_datagram::pair();
//
// Cancel safety: send/recv are cancel-safe (a datagram moves only in the step that
// completes the await). Errors throw std::system_error with the errno.
// Resumes on: the awaiting task's worker.
// Thread safety: one task may send while another receives.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "rill/detail/io_source.hpp"
#include "rill/task.hpp"

namespace rill::net {

struct unix_received {
    std::size_t size;
    std::string peer_path;  // "" when the sender is unbound
};

class unix_datagram {
public:
    unix_datagram() noexcept = default;

    static unix_datagram bind(const std::string& path);
    /// A socket with no name (it can send_to, and receive replies only if connected).
    static unix_datagram unbound();
    static std::pair<unix_datagram, unix_datagram> pair();
    void connect(const std::string& path);

    task<std::size_t> send(std::span<const std::byte> buf);
    task<std::size_t> send(std::string_view s) { return send(std::as_bytes(std::span(s.data(), s.size()))); }
    task<std::size_t> recv(std::span<std::byte> buf);
    task<std::size_t> recv(std::span<char> buf) { return recv(std::as_writable_bytes(buf)); }
    task<std::size_t> send_to(std::span<const std::byte> buf, std::string path);
    task<std::size_t> send_to(std::string_view s, std::string path) {
        return send_to(std::as_bytes(std::span(s.data(), s.size())), std::move(path));
    }
    task<unix_received> recv_from(std::span<std::byte> buf);
    task<unix_received> recv_from(std::span<char> buf) { return recv_from(std::as_writable_bytes(buf)); }

    std::string local_path() const;
    void close() noexcept { src_.close(); }

private:
    detail::io_source src_;
};

}  // namespace rill::net
