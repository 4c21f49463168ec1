// echo: a TCP echo server and client.
//
// The server accepts connections and spawns one task per connection that writes back
// whatever it reads until the peer closes its side. The client connects, sends each
// message, reads the same number of bytes back, and closes.
//
//     rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:7000");
//     co_await chapters::echo::serve(l);                       // server
//     co_await chapters::echo::client(l.local_addr(), {"hi"});  // client
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include <rill/net/tcp_listener.hpp>
#include <rill/net/tcp_stream.hpp>
#include <rill/rill.hpp>

namespace chapters::echo {

/// Echoes one connection until end of stream; a reset ends only this connection.
inline rill::task<void> echo_conn(rill::net::tcp_stream s) {
    std::array<std::byte, 4096> buf;
    try {
        for (;;) {
            const std::size_t n = co_await s.read(buf);
            if (n == 0) break;
            co_await s.write_all(std::span(buf).first(n));
        }
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "echo: connection ended: %s\n", e.what());
    }
}

inline rill::task<void> serve(rill::net::tcp_listener& l) {
    for (;;) {
        rill::net::tcp_accepted a = co_await l.accept();
        rill::spawn(echo_conn(std::move(a.stream))).detach();
    }
}

/// Sends each message and prints what comes back.
inline rill::task<void> client(std::string host_port, std::vector<std::string> messages) {
    rill::net::tcp_stream s = co_await rill::net::tcp_stream::connect(host_port);
    s.set_nodelay(true);
    for (const std::string& m : messages) {
        co_await s.write_all(m);
        std::string back(m.size(), '\0');
        co_await s.read_exact(std::span(back));
        std::printf("echoed: %s\n", back.c_str());
    }
    co_await s.shutdown();
    std::array<std::byte, 16> rest;
    std::printf("server closed after our shutdown: %s\n", (co_await s.read(rest)) == 0 ? "yes" : "no");
}

inline rill::task<int> demo() {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(serve(l));
    std::vector<std::string> messages;  // (not a braced list in the co_await: g++ 12)
    messages.push_back("hello");
    messages.push_back("rill");
    messages.push_back("echo");
    co_await client(l.local_addr().to_string(), std::move(messages));
    server.abort();
    co_return 0;
}

inline int run() { return rill::run(rill::builder::new_multi_thread().enable_all(), demo()); }

}  // namespace chapters::echo
