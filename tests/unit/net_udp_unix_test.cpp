// rill::net UDP and Unix-domain sockets: udp send_to/recv_from and connected
// send/recv, truncation, ECONNREFUSED on a connected socket; unix_stream through a
// listener and as a pair (with the stream contract: read/write/flush/shutdown);
// unix_datagram bound, unbound and paired — on both schedulers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "rill/net/udp_socket.hpp"
#include "rill/net/unix_datagram.hpp"
#include "rill/net/unix_stream.hpp"
#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using rill::net::socket_addr;

class net_udp_unix : public rill_test::both_flavors {
protected:
    rill::runtime io_rt() const { return builder(2).enable_all().build(); }
};
RILL_BOTH_FLAVORS(net_udp_unix);

std::string temp_path(const char* tag) {
    return "/tmp/rill_" + std::string(tag) + "_" + std::to_string(::getpid()) + "_" +
           std::to_string(reinterpret_cast<std::uintptr_t>(&tag) & 0xffff);
}

rill::task<void> udp_round() {
    auto a = rill::net::udp_socket::bind("127.0.0.1:0");
    auto b = rill::net::udp_socket::bind("127.0.0.1:0");
    EXPECT_EQ(co_await a.send_to("hello", b.local_addr()), 5u);
    std::array<char, 64> buf{};
    rill::net::udp_received r = co_await b.recv_from(buf);
    EXPECT_EQ(std::string(buf.data(), r.size), "hello");
    EXPECT_EQ(r.peer, a.local_addr());
    // Connected: send/recv, and the peer is filtered.
    a.connect(b.local_addr());
    b.connect(a.local_addr());
    EXPECT_EQ(a.peer_addr(), b.local_addr());
    co_await a.send("one");
    EXPECT_EQ(co_await b.recv(buf), 3u);
    EXPECT_EQ(std::string(buf.data(), 3), "one");
    // Truncation: a datagram larger than the buffer gives the buffer's size.
    co_await a.send("0123456789");
    std::array<char, 4> small{};
    EXPECT_EQ(co_await b.recv(small), 4u);
    // A receiver that waits first, then the datagram arrives.
    auto h = rill::spawn(b.recv(buf));
    co_await rill::time::sleep(std::chrono::milliseconds(5));
    co_await a.send("late");
    EXPECT_EQ(co_await h, 4u);
    // ECONNREFUSED: the connected peer is gone.
    auto gone_addr = socket_addr();
    {
        auto gone = rill::net::udp_socket::bind("127.0.0.1:0");
        gone_addr = gone.local_addr();
    }
    auto c = rill::net::udp_socket::bind("127.0.0.1:0");
    c.connect(gone_addr);
    co_await c.send("x");
    int err = 0;
    try {
        co_await rill::time::timeout(std::chrono::seconds(5), c.recv(buf));
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_EQ(err, ECONNREFUSED);
    // The error was reported once; a later recv waits (no datagram comes) instead of
    // spinning on the consumed error, so its timeout fires.
    bool timed_out = false;
    try {
        co_await rill::time::timeout(std::chrono::milliseconds(50), c.recv(buf));
    } catch (const rill::time::elapsed&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
}

TEST_P(net_udp_unix, udp_send_recv) {
    auto rt = io_rt();
    rt.block_on(udp_round());
}

rill::task<void> unix_stream_round(std::string path) {
    ::unlink(path.c_str());
    auto l = rill::net::unix_listener::bind(path);
    EXPECT_EQ(l.local_path(), path);
    rill::net::unix_stream c = co_await rill::net::unix_stream::connect(path);
    rill::net::unix_accepted a = co_await l.accept();
    EXPECT_EQ(c.peer_path(), path);
    co_await c.write_all("over unix");
    co_await c.flush();
    co_await c.shutdown();
    std::string got;
    std::array<char, 4> buf{};
    for (;;) {
        const std::size_t n = co_await a.stream.read(buf);
        if (n == 0) break;
        got.append(buf.data(), n);
    }
    EXPECT_EQ(got, "over unix");
    int err = 0;
    try {
        co_await rill::net::unix_stream::connect(path + ".missing");
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_EQ(err, ENOENT);
    EXPECT_THROW(rill::net::unix_listener::bind(std::string(200, 'x')), std::invalid_argument);
    ::unlink(path.c_str());

    auto [x, y] = rill::net::unix_stream::pair();
    co_await x.write_all("pair");
    std::array<char, 4> p{};
    co_await y.read_exact(p);
    EXPECT_EQ(std::string(p.data(), 4), "pair");
    // A broken pipe is an error from write, never a SIGPIPE.
    y.close();
    err = 0;
    try {
        for (int i = 0; i < 10; ++i) co_await x.write_all("more");
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_EQ(err, EPIPE);
}

TEST_P(net_udp_unix, unix_stream_listener_and_pair) {
    auto rt = io_rt();
    rt.block_on(unix_stream_round(temp_path("stream")));
}

rill::task<void> unix_dgram_round(std::string path) {
    ::unlink(path.c_str());
    auto server = rill::net::unix_datagram::bind(path);
    auto client_path = path + ".c";
    ::unlink(client_path.c_str());
    auto client = rill::net::unix_datagram::bind(client_path);
    EXPECT_EQ(co_await client.send_to("ping", path), 4u);
    std::array<char, 16> buf{};
    rill::net::unix_received r = co_await server.recv_from(buf);
    EXPECT_EQ(std::string(buf.data(), r.size), "ping");
    EXPECT_EQ(r.peer_path, client_path);
    co_await server.send_to("pong", r.peer_path);
    EXPECT_EQ(co_await client.recv(buf), 4u);
    auto anon = rill::net::unix_datagram::unbound();
    co_await anon.send_to("anon", path);
    r = co_await server.recv_from(buf);
    EXPECT_EQ(r.peer_path, "");
    auto [a, b] = rill::net::unix_datagram::pair();
    co_await a.send("dgram");
    EXPECT_EQ(co_await b.recv(buf), 5u);
    ::unlink(path.c_str());
    ::unlink(client_path.c_str());
}

TEST_P(net_udp_unix, unix_datagram_bound_unbound_pair) {
    auto rt = io_rt();
    rt.block_on(unix_dgram_round(temp_path("dgram")));
}

// A runtime that had nothing registered skips the epoll_wait of its periodic poll. Here
// every worker stays busy (spinners that only yield, so no worker ever parks and polls
// blocking), and the sockets are made only after that: their datagrams can arrive only
// through the periodic poll, which must see the new registrations.
// One datagram between two new sockets, the receiver waiting first. Its send and its
// receive both wait on their registrations' first events.
rill::task<bool> datagram_between_new_sockets() {
    auto a = rill::net::udp_socket::bind("127.0.0.1:0");
    auto b = rill::net::udp_socket::bind("127.0.0.1:0");
    const socket_addr to = b.local_addr();
    auto h = rill::spawn([](rill::net::udp_socket b) -> rill::task<std::size_t> {
        std::array<char, 16> buf{};
        co_return co_await b.recv(buf);
    }(std::move(b)));
    // Long enough for the receiver to find nothing and wait on its registration (a
    // timer fires on a busy worker too).
    co_await rill::time::sleep(std::chrono::milliseconds(2));
    co_await a.send_to("ping", to);
    co_return co_await h == 4;
}

rill::task<int> io_while_every_worker_spins(std::size_t spinners) {
    std::atomic<bool> stop{false};
    std::vector<rill::join_handle<void>> hs;
    for (std::size_t i = 0; i < spinners; ++i)
        hs.push_back(rill::spawn([](std::atomic<bool>* stop) -> rill::task<void> {
            while (!stop->load()) co_await rill::yield_now();
        }(&stop)));
    co_await rill::yield_now();
    int got = 0;
    try {
        for (int round = 0; round < 20; ++round)
            got += static_cast<int>(co_await rill::time::timeout(std::chrono::seconds(2), datagram_between_new_sockets()));
    } catch (const rill::time::elapsed&) {
        ADD_FAILURE() << "a socket saw no event while every worker was busy";
    }
    stop = true;  // the spinners read it: stop them before this frame goes
    for (auto& h : hs) co_await h;
    co_return got;
}

TEST_P(net_udp_unix, sockets_made_while_every_worker_is_busy_get_their_events) {
    auto rt = io_rt();
    EXPECT_EQ(rt.block_on(io_while_every_worker_spins(4)), 20);
}

// Cooperative budget: a loop over a socket that is always ready (the data is all
// queued; the send buffer has room) yields after at most 128 operations, so the other
// task of this current_thread runtime runs meanwhile. Without the budget it ran only
// after the loop (seen at -1).
rill::task<std::pair<int, int>> always_ready_loops() {
    auto [a, b] = rill::net::unix_stream::pair();
    std::vector<std::byte> data(2000, std::byte{1});
    co_await rill::io::write_all(b, data);
    auto seen_during = [](int loops, auto op) -> rill::task<int> {
        bool ran = false;
        rill::spawn([](bool* r) -> rill::task<void> {
            *r = true;
            co_return;
        }(&ran)).detach();
        for (int i = 0; i < loops; ++i) {
            co_await op();
            if (ran) co_return i;
        }
        co_return -1;
    };
    std::array<std::byte, 1> one{};
    const int reads = co_await seen_during(1000, [&]() -> rill::task<void> { co_await a.read_exact(one); });
    const int writes = co_await seen_during(1000, [&]() -> rill::task<void> { co_await rill::io::write_all(a, one); });
    co_return std::pair{reads, writes};
}

TEST(net_unix_coop, an_always_ready_read_or_write_loop_lets_other_tasks_run) {
    auto rt = rill::builder::new_current_thread().enable_all().build();
    auto [reads, writes] = rt.block_on(always_ready_loops());
    EXPECT_GE(reads, 0);
    EXPECT_LE(reads, 128);
    EXPECT_GE(writes, 0);
    EXPECT_LE(writes, 128);
}

}  // namespace
