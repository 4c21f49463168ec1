// rill::net TCP: connect/accept, reads and writes of every shape, readiness, peek,
// shutdown, split halves used by two tasks at once, errors from refused/reset
// connections, and cancellation (a task destroyed mid-read, a stream closed while
// another task waits on it) — on both schedulers.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "rill/detail/frame_alloc.hpp"
#include "rill/net/lookup_host.hpp"
#include "rill/net/tcp_listener.hpp"
#include "rill/net/tcp_stream.hpp"
#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using namespace std::chrono_literals;
using rill::net::socket_addr;
using rill::net::tcp_listener;
using rill::net::tcp_stream;

class net_tcp : public rill_test::both_flavors {
protected:
    rill::runtime io_rt() const { return builder(2).enable_all().build(); }
};
RILL_BOTH_FLAVORS(net_tcp);

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

rill::task<void> echo_once(tcp_listener* l) {
    rill::net::tcp_accepted a = co_await l->accept();
    std::array<std::byte, 1024> buf{};
    for (;;) {
        const std::size_t n = co_await a.stream.read(buf);
        if (n == 0) break;
        co_await a.stream.write_all(std::span(buf).first(n));
    }
}

rill::task<std::string> echo_client(socket_addr addr, std::string msg) {
    tcp_stream s = co_await tcp_stream::connect(addr);
    s.set_nodelay(true);
    EXPECT_TRUE(s.nodelay());
    EXPECT_EQ(s.peer_addr(), addr);
    co_await s.write_all(msg);
    co_await s.shutdown();
    std::string out;
    std::array<char, 7> buf{};
    for (;;) {
        const std::size_t n = co_await s.read(buf);
        if (n == 0) break;
        out.append(buf.data(), n);
    }
    co_return out;
}

rill::task<std::string> echo_round(std::string msg) {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    EXPECT_NE(l.local_addr().port(), 0);
    auto server = rill::spawn(echo_once(&l));
    std::string got = co_await echo_client(l.local_addr(), msg);
    co_await server;
    co_return got;
}

TEST_P(net_tcp, echo_round_trip_with_half_close) {
    auto rt = io_rt();
    std::string msg(100'000, 'x');
    for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<char>('a' + i % 26);
    EXPECT_EQ(rt.block_on(echo_round(msg)), msg);
}

rill::task<void> many_clients(int n) {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    std::vector<rill::join_handle<void>> servers;
    for (int i = 0; i < n; ++i) servers.push_back(rill::spawn(echo_once(&l)));
    std::vector<rill::join_handle<std::string>> clients;
    for (int i = 0; i < n; ++i) clients.push_back(rill::spawn(echo_client(l.local_addr(), "hello " + std::to_string(i))));
    for (int i = 0; i < n; ++i) EXPECT_EQ(co_await clients[i], "hello " + std::to_string(i));
    for (auto& s : servers) co_await s;
}

TEST_P(net_tcp, many_concurrent_connections) {
    auto rt = io_rt();
    rt.block_on(many_clients(static_cast<int>(rill_test::scaled(200))));
}

rill::task<void> connect_refused() {
    // Bind then close: nothing listens on that port now.
    socket_addr addr;
    {
        tcp_listener l = tcp_listener::bind("127.0.0.1:0");
        addr = l.local_addr();
    }
    try {
        co_await tcp_stream::connect(addr);
        ADD_FAILURE() << "connect succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ECONNREFUSED);
    }
    // A list: the first address fails, the second works.
    tcp_listener l2 = tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(echo_once(&l2));
    // (The list is built before the co_await: g++ 12 cannot keep an initializer_list's
    // array alive across a suspension.)
    std::vector<socket_addr> both;
    both.push_back(addr);
    both.push_back(l2.local_addr());
    tcp_stream s = co_await tcp_stream::connect(std::move(both));
    EXPECT_EQ(s.peer_addr(), l2.local_addr());
    s.close();
    co_await server;
}

TEST_P(net_tcp, connect_refused_throws_and_list_tries_next) {
    auto rt = io_rt();
    rt.block_on(connect_refused());
}

rill::task<void> reset_by_peer() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    // SO_LINGER 0: close sends RST.
    linger lg{1, 0};
    EXPECT_EQ(::setsockopt(a.stream.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    a.stream.close();
    co_await rill::time::sleep(20ms);
    std::array<std::byte, 16> buf{};
    int err = 0;
    try {
        // The first write may still succeed; reads/writes then fail with the errno.
        for (int i = 0; i < 100; ++i) {
            co_await c.write_all(bytes("data"));
            co_await c.read(buf);
        }
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_TRUE(err == ECONNRESET || err == EPIPE) << err;
    // The runtime still serves other connections.
    auto server = rill::spawn(echo_once(&l));
    EXPECT_EQ(co_await echo_client(l.local_addr(), "still alive"), "still alive");
    co_await server;
}

TEST_P(net_tcp, peer_reset_raises_system_error_and_runtime_goes_on) {
    auto rt = io_rt();
    rt.block_on(reset_by_peer());
}

rill::task<void> readiness_peek_try() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    EXPECT_EQ(a.peer, c.local_addr());
    co_await c.writable();
    std::array<std::byte, 8> buf{};
    EXPECT_FALSE(a.stream.try_read(buf).has_value());  // nothing yet: would block
    co_await c.write_all(bytes("peekaboo"));
    co_await a.stream.readable();
    EXPECT_EQ(co_await a.stream.peek(std::span(buf).first(4)), 4u);
    EXPECT_EQ(std::memcmp(buf.data(), "peek", 4), 0);
    co_await a.stream.read_exact(buf);  // peek left the bytes in place
    EXPECT_EQ(std::memcmp(buf.data(), "peekaboo", 8), 0);
    c.shutdown_write();
    EXPECT_EQ(co_await a.stream.read(buf), 0u);
    bool eof = false;
    try {
        co_await a.stream.read_exact(buf);
    } catch (const rill::net::unexpected_eof& e) {
        // One error for one condition: the generic read_exact's code, catchable either way.
        EXPECT_EQ(e.code(), rill::io::errc::unexpected_eof);
        eof = true;
    }
    EXPECT_TRUE(eof);
    // writev gathers.
    std::string x = "ab", y = "cde";
    std::array<iovec, 2> iov{iovec{x.data(), x.size()}, iovec{y.data(), y.size()}};
    EXPECT_EQ(co_await a.stream.writev(iov), 5u);
    std::array<char, 5> got{};
    co_await c.read_exact(got);
    EXPECT_EQ(std::string(got.data(), 5), "abcde");
    // More buffers than the kernel takes in one call (IOV_MAX): a partial write of the
    // first IOV_MAX, not EMSGSIZE.
    std::vector<char> many(IOV_MAX + 500, 'z');
    std::vector<iovec> iovs;
    for (char& ch : many) iovs.push_back(iovec{&ch, 1});
    const std::size_t sent = co_await a.stream.writev(iovs);
    EXPECT_EQ(sent, static_cast<std::size_t>(IOV_MAX));
    std::vector<char> back(sent);
    co_await c.read_exact(std::as_writable_bytes(std::span(back)));
    EXPECT_EQ(back, std::vector<char>(sent, 'z'));
}

// Reads ask for up to 16 bytes more than the caller's buffer (stream_socket.hpp,
// "Read-ahead"). Bytes that landed there come first in read, read_exact, peek and
// try_read, and keep the socket readable although the kernel's queue is empty.
rill::task<bool> readable_within(tcp_stream& s, std::chrono::milliseconds d) {
    try {
        co_await rill::time::timeout(d, s.readable());
        co_return true;
    } catch (const rill::time::elapsed&) {
        co_return false;
    }
}

rill::task<void> read_ahead_bytes() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    tcp_stream& s = a.stream;
    const std::string msg = "0123456789abcdefghij";  // 20 bytes: 4 asked + 16 ahead
    co_await c.write_all(bytes(msg));
    co_await s.readable();
    std::array<char, 4> four{};
    co_await s.read_exact(four);
    EXPECT_EQ(std::string(four.data(), 4), "0123");
    // The 16 other bytes were taken with them (the loopback delivers one segment); the
    // kernel's queue is empty, yet the socket must still read as ready.
    EXPECT_TRUE(co_await readable_within(s, 2000ms));
    EXPECT_EQ(co_await s.peek(std::as_writable_bytes(std::span(four))), 4u);
    EXPECT_EQ(std::string(four.data(), 4), "4567");
    std::optional<std::size_t> n = s.try_read(std::as_writable_bytes(std::span(four)));
    EXPECT_EQ(n.value_or(0), 4u);
    EXPECT_EQ(std::string(four.data(), 4), "4567");
    std::array<char, 64> rest{};
    std::size_t got = co_await s.read(rest);  // the 12 bytes ahead, then nothing more
    EXPECT_EQ(std::string(rest.data(), got), "89abcdefghij");
    EXPECT_FALSE(s.try_read(std::as_writable_bytes(std::span(rest))).has_value());
    EXPECT_FALSE(co_await readable_within(s, 50ms));

    // A read that ends inside the read-ahead area, then more data: order is kept.
    co_await c.write_all(bytes("ABCDEFGHIJ"));
    std::array<char, 3> three{};
    co_await s.read_exact(three);
    EXPECT_EQ(std::string(three.data(), 3), "ABC");
    co_await c.write_all(bytes("KLMNOPQRSTUVWXYZ"));
    std::string all;
    while (all.size() < 23) {
        std::size_t k = co_await s.read(std::span(three));
        if (k == 0) break;  // end of stream: the comparison below fails
        all.append(three.data(), k);
    }
    EXPECT_EQ(all, "DEFGHIJKLMNOPQRSTUVWXYZ");

    // End of stream after read-ahead bytes: the bytes first, then 0.
    co_await c.write_all(bytes("xyz"));
    c.shutdown_write();
    co_await s.read_exact(std::span(three).first(1));
    EXPECT_EQ(three[0], 'x');
    got = co_await s.read(rest);
    EXPECT_EQ(std::string(rest.data(), got), "yz");
    EXPECT_EQ(co_await s.read(rest), 0u);
}

TEST_P(net_tcp, read_ahead_bytes_come_first_and_keep_the_socket_readable) {
    auto rt = io_rt();
    rt.block_on(read_ahead_bytes());
}

// Two tasks reading one socket at once (the read-ahead area is shared between them):
// every byte the peer sent is read exactly once, by one of them.
rill::task<void> count_bytes(tcp_stream* s, std::vector<int>* seen) {
    std::array<unsigned char, 7> buf{};  // odd sizes: reads end inside the read-ahead area
    for (;;) {
        std::size_t n = co_await s->read(std::as_writable_bytes(std::span(buf)));
        if (n == 0) co_return;
        for (std::size_t i = 0; i < n; ++i) ++(*seen)[buf[i]];
    }
}

rill::task<void> two_readers() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    std::vector<int> seen1(256), seen2(256);
    auto r1 = rill::spawn(count_bytes(&a.stream, &seen1));
    auto r2 = rill::spawn(count_bytes(&a.stream, &seen2));
    constexpr int rounds = 200;
    std::array<unsigned char, 256> block{};
    for (int i = 0; i < 256; ++i) block[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
    for (int r = 0; r < rounds; ++r) {
        co_await c.write_all(std::as_bytes(std::span(block).first(static_cast<std::size_t>(1 + r % 256))));
        if (r % 16 == 0) co_await rill::yield_now();
    }
    c.shutdown_write();
    co_await r1;
    co_await r2;
    std::vector<int> want(256);
    for (int r = 0; r < rounds; ++r)
        for (int b = 0; b < 1 + r % 256; ++b) ++want[static_cast<std::size_t>(b)];
    for (std::size_t b = 0; b < 256; ++b) EXPECT_EQ(seen1[b] + seen2[b], want[b]) << "byte value " << b;
}

TEST_P(net_tcp, two_tasks_reading_one_socket_each_byte_once) {
    auto rt = io_rt();
    rt.block_on(two_readers());
}

TEST_P(net_tcp, readiness_peek_try_read_read_exact_writev) {
    auto rt = io_rt();
    rt.block_on(readiness_peek_try());
}

rill::task<void> read_into(rill::net::tcp_read_half* rd, std::string* out) {
    std::array<char, 64> buf{};
    for (;;) {
        const std::size_t n = co_await rd->read(buf);
        if (n == 0) co_return;
        out->append(buf.data(), n);
    }
}

rill::task<void> write_many(rill::net::tcp_write_half wr, int n) {
    for (int i = 0; i < n; ++i) co_await wr.write_all(bytes("0123456789"));
    // wr dies here: the write side is shut down.
}

rill::task<void> split_halves() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(echo_once(&l));
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    auto [rd, wr] = std::move(c).into_split();
    std::string got;
    auto reader = rill::spawn(read_into(&rd, &got));
    auto writer = rill::spawn(write_many(std::move(wr), 1000));
    co_await writer;
    co_await reader;
    EXPECT_EQ(got.size(), 10'000u);
    co_await server;
}

TEST_P(net_tcp, split_halves_used_by_two_tasks_at_once) {
    auto rt = io_rt();
    rt.block_on(split_halves());
}

rill::task<void> cancel_mid_read() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    std::array<std::byte, 16> buf{};
    // A read that never completes, destroyed by timeout.
    bool timed_out = false;
    try {
        co_await rill::time::timeout(10ms, a.stream.read(buf));
    } catch (const rill::time::elapsed&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    // The stream still works afterwards: the destroyed waiter left nothing behind.
    co_await c.write_all(bytes("after"));
    EXPECT_EQ(co_await a.stream.read(buf), 5u);
    // A spawned task aborted while waiting in read.
    auto h = rill::spawn(a.stream.read(buf));
    co_await rill::time::sleep(5ms);
    h.abort();
    bool cancelled = false;
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        cancelled = e.is_cancelled();
    }
    EXPECT_TRUE(cancelled);
    co_await c.write_all(bytes("again"));
    EXPECT_EQ(co_await a.stream.read(buf), 5u);
}

TEST_P(net_tcp, task_destroyed_mid_read_releases_its_wait) {
    auto rt = io_rt();
    rt.block_on(cancel_mid_read());
}

// Reads and writes abandoned midway (a timeout fires first) lose and reorder nothing.
// Run in a spawned task: with io_uring on, a worker's small reads and writes go through
// its ring, and an abandoned recv stays in flight; its bytes must come first on the
// next read. Without io_uring this checks the same promise for the readiness path.
rill::task<void> abandoned_ops_lose_nothing() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    for (int i = 0; i < 20; ++i) {
        std::array<std::byte, 8> buf{};
        bool timed_out = false;
        try {
            co_await rill::time::timeout(1ms, a.stream.read(buf));
        } catch (const rill::time::elapsed&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        const std::string msg = "m" + std::to_string(i) + ";";
        co_await c.write_all(msg);
        std::string got;
        std::array<char, 64> in{};
        while (got.size() < msg.size()) {
            const std::size_t n = co_await a.stream.read(std::span(in).first(msg.size() - got.size()));
            if (n == 0) break;
            got.append(in.data(), n);
        }
        EXPECT_EQ(got, msg);
    }
    // Writes abandoned at once (the timeout is already due when they start) either went
    // out whole or not at all before the next write; the reader sees whole messages.
    std::string sent;
    for (int i = 0; i < 50; ++i) {
        const std::string msg = "w" + std::to_string(i) + ";";
        try {
            co_await rill::time::timeout(0ms, c.write_all(msg));
            sent += msg;
        } catch (const rill::time::elapsed&) {
            sent += "?";  // unknown: all or nothing of msg (a later write waits for it)
        }
    }
    co_await c.write_all(std::string_view("end;"));
    std::string got;
    std::array<char, 256> in{};
    while (got.size() < 4 || got.substr(got.size() - 4) != "end;") {
        const std::size_t n = co_await a.stream.read(in);
        if (n == 0) break;
        got.append(in.data(), n);
    }
    // Every message is whole and in order; "?" entries matched zero or one message.
    std::size_t pos = 0;
    for (int i = 0; i < 50; ++i) {
        const std::string msg = "w" + std::to_string(i) + ";";
        if (got.compare(pos, msg.size(), msg) == 0) pos += msg.size();
    }
    EXPECT_EQ(got.substr(pos), "end;") << got;
    // A write_all that completed put its message in the stream.
    for (std::size_t i = 0, start = 0; i < sent.size(); ++i) {
        if (sent[i] != ';') continue;
        std::string msg = sent.substr(start, i + 1 - start);
        if (msg.front() == '?') msg.erase(0, msg.find('w'));
        EXPECT_NE(got.find(msg), std::string::npos) << msg;
        start = i + 1;
    }
}

TEST_P(net_tcp, reads_and_writes_abandoned_by_a_timeout_lose_and_reorder_nothing) {
    auto rt = builder(2).enable_all().enable_io_uring().build();
    rt.block_on([]() -> rill::task<void> { co_await rill::spawn(abandoned_ops_lose_nothing()); }());
}

// Reads and writes just under the 1 KiB cut-off: with io_uring on, each op (header +
// bytes) must stay within the frame allocator's recycled sizes, so the path allocates
// nothing per operation once warm (a large allocation is a malloc).
rill::task<void> near_cutoff_round_trips() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    std::array<std::byte, 1000> out{};
    std::array<std::byte, 1000> in{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(i * 7);
    auto round = [&]() -> rill::task<void> {
        co_await c.write_all(out);
        co_await a.stream.read_exact(in);
        EXPECT_EQ(in, out);
    };
    for (int i = 0; i < 10; ++i) co_await round();
    const auto before = rill::detail::frame_alloc_statistics().large_allocs;
    for (int i = 0; i < 100; ++i) co_await round();
    EXPECT_EQ(rill::detail::frame_alloc_statistics().large_allocs, before);
}

TEST_P(net_tcp, reads_and_writes_near_the_ring_cutoff_allocate_nothing_once_warm) {
    auto rt = builder(2).enable_all().enable_io_uring().build();
    rt.block_on([]() -> rill::task<void> { co_await rill::spawn(near_cutoff_round_trips()); }());
}

rill::task<std::size_t> read_some(tcp_stream* s) {
    std::array<std::byte, 16> buf{};
    co_return co_await s->read(buf);
}

rill::task<void> close_while_waiting() {
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    tcp_stream c = co_await tcp_stream::connect(l.local_addr());
    rill::net::tcp_accepted a = co_await l.accept();
    auto h = rill::spawn(read_some(&a.stream));
    co_await rill::time::sleep(10ms);
    a.stream.close();
    int err = 0;
    try {
        co_await h;
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_TRUE(err == ECANCELED || err == EBADF) << err;
    // Operations after close fail at once.
    std::array<std::byte, 4> buf{};
    err = 0;
    try {
        co_await a.stream.read(buf);
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_EQ(err, EBADF);
}

TEST_P(net_tcp, close_while_another_task_waits_wakes_it_with_an_error) {
    auto rt = io_rt();
    rt.block_on(close_while_waiting());
}

rill::task<void> resolve_localhost() {
    std::vector<socket_addr> v = co_await rill::net::lookup_host("localhost:80");
    EXPECT_FALSE(v.empty());
    for (auto& a : v) EXPECT_EQ(a.port(), 80);
    std::vector<socket_addr> n = co_await rill::net::lookup_host("127.0.0.1:81");
    EXPECT_EQ(n.size(), 1u);
    if (n.size() != 1u) co_return;
    EXPECT_EQ(n[0].to_string(), "127.0.0.1:81");
    bool bad = false;
    try {
        co_await rill::net::lookup_host("no-port-here");
    } catch (const std::invalid_argument&) {
        bad = true;
    }
    EXPECT_TRUE(bad);
    bool unresolved = false;
    try {
        co_await rill::net::lookup_host("does-not-exist.invalid:80");
    } catch (const std::system_error&) {
        unresolved = true;
    }
    EXPECT_TRUE(unresolved);
    // A port out of range or not a number is an error: getaddrinfo wrapped 70000 to 4464
    // and 65536 to 0, and took service names ("http").
    for (const char* hp : {"localhost:70000", "localhost:65536", "localhost:http", "localhost:-1", "localhost:+80"}) {
        bool rejected = false;
        try {
            co_await rill::net::lookup_host(hp);
        } catch (const std::invalid_argument&) {
            rejected = true;
        }
        EXPECT_TRUE(rejected) << hp;
    }
    // connect by name.
    tcp_listener l = tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(echo_once(&l));
    tcp_stream s = co_await tcp_stream::connect("localhost:" + std::to_string(l.local_addr().port()));
    s.close();
    co_await server;
}

TEST_P(net_tcp, lookup_host_and_connect_by_name) {
    auto rt = io_rt();
    rt.block_on(resolve_localhost());
}

TEST(net_tcp_misc, socket_addr_parse_and_format) {
    EXPECT_EQ(socket_addr::parse("127.0.0.1:8080").to_string(), "127.0.0.1:8080");
    EXPECT_EQ(socket_addr::parse("[::1]:443").to_string(), "[::1]:443");
    EXPECT_TRUE(socket_addr::parse("[::1]:443").is_ipv6());
    EXPECT_EQ(socket_addr::parse("10.1.2.3:0").port(), 0);
    for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "::1:80", "host:80", "[::1]80", "1.2.3:4"})
        EXPECT_THROW(socket_addr::parse(bad), std::invalid_argument) << bad;
}

// A link-local IPv6 address keeps its zone (scope id) through to_string, parse and ==
// (it was printed without it, rejected by parse, and equal across interfaces).
TEST(net_tcp_misc, ipv6_scope_id_round_trips) {
    const socket_addr a = socket_addr::parse("[fe80::1%1]:80");
    EXPECT_EQ(reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_scope_id, 1u);
    EXPECT_EQ(a.to_string(), "[fe80::1%1]:80");
    EXPECT_EQ(socket_addr::parse(a.to_string()), a);
    EXPECT_FALSE(socket_addr::parse("[fe80::1%2]:80") == a);
    EXPECT_FALSE(socket_addr::parse("[fe80::1]:80") == a);
    EXPECT_EQ(socket_addr::parse("[fe80::1%lo]:80").to_string(), "[fe80::1%1]:80");  // lo is index 1
    for (const char* bad : {"[fe80::1%]:80", "[fe80::1%no-such-if0]:80", "[fe80::1%1%2]:80"})
        EXPECT_THROW(socket_addr::parse(bad), std::invalid_argument) << bad;
    EXPECT_EQ(socket_addr::parse("127.0.0.1:1"), socket_addr::parse("127.0.0.1:1"));
    EXPECT_FALSE(socket_addr::parse("127.0.0.1:1") == socket_addr::parse("127.0.0.2:1"));
}

TEST(net_tcp_misc, bind_without_io_or_runtime_is_a_clear_error) {
    EXPECT_THROW(tcp_listener::bind("127.0.0.1:0"), std::logic_error);
    auto rt = rill::builder::new_current_thread().enable_time().build();
    EXPECT_THROW(rt.block_on([]() -> rill::task<void> {
                     tcp_listener::bind("127.0.0.1:0");
                     co_return;
                 }()),
                 std::logic_error);
}

rill::task<void> bind_options_test() {
    tcp_listener a = tcp_listener::bind("127.0.0.1:0", {.reuse_address = true, .reuse_port = true, .backlog = 16});
    tcp_listener b = tcp_listener::bind(a.local_addr(), {.reuse_port = true});  // shares the port
    EXPECT_EQ(a.local_addr(), b.local_addr());
    int err = 0;
    try {
        tcp_listener c = tcp_listener::bind(a.local_addr());  // no reuse_port: in use
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_EQ(err, EADDRINUSE);
    EXPECT_THROW(tcp_listener::bind("127.0.0.1:0", {.backlog = 0}), std::invalid_argument);
    co_return;
}

TEST_P(net_tcp, bind_options_reuse_port_and_errors) {
    auto rt = io_rt();
    rt.block_on(bind_options_test());
}

}  // namespace
