// Network benchmarks (shared/anchors/README.md §1): tcp_echo.
//
// tcp_echo: an in-process echo server on 127.0.0.1:0 accepting exactly 100 connections;
// per connection a task reads exactly 64 bytes and writes them back until EOF. 100
// client tasks connect (TCP_NODELAY on both ends) and each does N/100 round trips
// (write 64 bytes, read exactly 64 bytes, checked). Timed: clients spawned to all done.
#include <array>
#include <cstring>

#include <rill/net/tcp_listener.hpp>
#include <rill/net/tcp_stream.hpp>

#include "common.hpp"

namespace {

using rill_bench::arc;
using rill_bench::latch;
using rill_bench::outcome;

constexpr std::size_t clients = 100;
constexpr std::size_t msg = 64;

rill::task<> echo_conn(rill::net::tcp_stream s) {
    std::array<std::byte, msg> buf{};
    try {
        for (;;) {
            co_await s.read_exact(buf);
            co_await s.write_all(buf);
        }
    } catch (const rill::net::unexpected_eof&) {
    } catch (const std::system_error&) {
    }
}

rill::task<> accept_clients(rill::net::tcp_listener l) {
    for (std::size_t i = 0; i < clients; ++i) {
        rill::net::tcp_accepted a = co_await l.accept();
        a.stream.set_nodelay(true);
        rill::spawn(echo_conn(std::move(a.stream))).detach();
    }
}

rill::task<> echo_client(rill::net::socket_addr addr, std::size_t c, std::size_t per, arc<latch> done,
                         arc<std::atomic<std::size_t>> bad) {
    rill::net::tcp_stream s = co_await rill::net::tcp_stream::connect(addr);
    s.set_nodelay(true);
    std::array<std::byte, msg> out;
    out.fill(static_cast<std::byte>(c));
    std::array<std::byte, msg> back{};
    for (std::size_t i = 0; i < per; ++i) {
        co_await s.write_all(out);
        co_await s.read_exact(back);
    }
    if (back != out) bad->fetch_add(1);
    s.close();
    done->count_down();
}

rill::task<outcome> tcp_echo(std::size_t n) {
    const std::size_t per = std::max<std::size_t>(n / clients, 1);
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    const rill::net::socket_addr addr = l.local_addr();
    auto server = rill::spawn(accept_clients(std::move(l)));
    auto done = arc<latch>::make(clients);
    auto bad = arc<std::atomic<std::size_t>>::make(0);
    const auto start = rill_bench::clock_type::now();
    for (std::size_t c = 0; c < clients; ++c) rill::spawn(echo_client(addr, c, per, done, bad)).detach();
    co_await done->wait();
    outcome o = rill_bench::outcome_since(per * clients, start);
    co_await server;
    if (bad->load() != 0) rill_bench::fail("tcp_echo: a client read back different bytes");
    co_return o;
}

}  // namespace

RILL_BENCH(tcp_echo, 1'000'000);
