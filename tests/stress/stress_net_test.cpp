// Readiness waits racing their destruction and the socket's close, on the multi-thread
// runtime: a reader task aborted while the peer's bytes arrive (dispatched by whichever
// worker polls epoll) either read the byte or left it in the socket — never lost, never
// read twice, no waker left behind (TSan/ASan watch the rest); a stream closed while a
// reader waits wakes it with an error and frees nothing under it. Seeded: RILL_SEED=...
// replays a failure's delays.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <span>
#include <system_error>

#include "rill/net/tcp_listener.hpp"
#include "rill/net/tcp_stream.hpp"
#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::scaled;

class net_stress : public rill_test::seeded {};

rill::task<std::size_t> read_some(rill::net::tcp_stream* s) {
    std::array<std::byte, 64> buf{};
    co_return co_await s->read(buf);
}

rill::task<void> write_byte(rill::net::tcp_stream* s, std::uint64_t delay) {
    rill_test::spin(delay);
    co_await s->write_all("x");
}

struct conn {
    rill::net::tcp_stream server;
    rill::net::tcp_stream client;
};

rill::task<conn> connect_pair(rill::net::tcp_listener* l) {
    rill::net::tcp_stream c = co_await rill::net::tcp_stream::connect(l->local_addr());
    rill::net::tcp_accepted a = co_await l->accept();
    co_return conn{std::move(a.stream), std::move(c)};
}

/// One round: returns the bytes the (maybe aborted) reader consumed, after draining
/// whatever it left in the socket.
rill::task<std::size_t> abort_round(conn* c, std::uint64_t write_delay, std::uint64_t abort_delay) {
    auto reader = rill::spawn(read_some(&c->server));
    auto writer = rill::spawn(write_byte(&c->client, write_delay));
    rill_test::spin(abort_delay);
    reader.abort();
    co_await writer;
    std::size_t got = 0;
    try {
        got = co_await reader;
    } catch (const rill::join_error&) {
        got = 0;
    }
    if (got == 0) got = co_await read_some(&c->server);  // the byte is still there
    co_return got;
}

TEST_F(net_stress, reader_aborted_while_bytes_arrive_loses_and_duplicates_nothing) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).enable_all().build();
    auto l = rt.block_on([]() -> rill::task<rill::net::tcp_listener> {
        co_return rill::net::tcp_listener::bind("127.0.0.1:0");
    }());
    conn c = rt.block_on(connect_pair(&l));
    const int rounds = static_cast<int>(scaled(4000));
    for (int i = 0; i < rounds; ++i) {
        const std::uint64_t wd = rand(0, 2000), ad = rand(0, 2000);
        ASSERT_EQ(rt.block_on(abort_round(&c, wd, ad)), 1u) << "round " << i;
    }
    rt.block_on([](conn* c) -> rill::task<void> {
        c->server.close();
        c->client.close();
        co_return;
    }(&c));
}

// peek racing a read on one socket: the read drains the kernel into the read-ahead area
// while peek's recv gets EAGAIN. peek cleared the readiness then (outside the lock), and
// the peek and every later read waited for bytes already received.
rill::task<std::size_t> peek4(rill::net::tcp_stream* s) {
    std::array<std::byte, 4> b{};
    co_return co_await s->peek(b);
}
rill::task<std::size_t> read4(rill::net::tcp_stream* s) {
    std::array<std::byte, 4> b{};
    co_return co_await s->read(b);
}

rill::task<int> peek_read_round(conn* c, std::uint64_t delay) {
    auto r = rill::spawn(read4(&c->server));
    auto p = rill::spawn(peek4(&c->server));
    rill_test::spin(delay);
    co_await c->client.write_all("0123456789abcdefghij");  // 4 read + 16 held back
    try {
        co_await rill::time::timeout(std::chrono::seconds(5), std::move(p));
        const std::size_t got = co_await rill::time::timeout(std::chrono::seconds(5), std::move(r));
        std::array<std::byte, 20> rest{};
        co_await rill::time::timeout(std::chrono::seconds(5), c->server.read_exact(std::span(rest).first(20 - got)));
    } catch (const rill::time::elapsed&) {
        co_return 0;
    }
    co_return 1;
}

TEST_F(net_stress, peek_racing_a_read_never_strands_read_ahead_bytes) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).enable_all().build();
    auto l = rt.block_on([]() -> rill::task<rill::net::tcp_listener> {
        co_return rill::net::tcp_listener::bind("127.0.0.1:0");
    }());
    conn c = rt.block_on(connect_pair(&l));
    const int rounds = static_cast<int>(scaled(3000));
    for (int i = 0; i < rounds; ++i) ASSERT_EQ(rt.block_on(peek_read_round(&c, rand(0, 3000))), 1) << "round " << i;
    rt.block_on([](conn* c) -> rill::task<void> {
        c->server.close();
        c->client.close();
        co_return;
    }(&c));
}

rill::task<int> close_round(rill::net::tcp_listener* l, std::uint64_t write_delay, std::uint64_t close_delay) {
    conn c = co_await connect_pair(l);
    auto reader = rill::spawn(read_some(&c.server));
    auto writer = rill::spawn(write_byte(&c.client, write_delay));
    rill_test::spin(close_delay);
    c.server.close();
    co_await writer;
    int outcome = 0;
    try {
        outcome = static_cast<int>(co_await reader);  // read the byte before the close
    } catch (const std::system_error& e) {
        outcome = e.code().value() == ECANCELED || e.code().value() == EBADF ? -1 : -2;
    }
    co_return outcome;
}

TEST_F(net_stress, stream_closed_while_a_reader_waits_wakes_it_cleanly) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).enable_all().build();
    auto l = rt.block_on([]() -> rill::task<rill::net::tcp_listener> {
        co_return rill::net::tcp_listener::bind("127.0.0.1:0");
    }());
    const int rounds = static_cast<int>(scaled(2000));
    int cancelled = 0;
    for (int i = 0; i < rounds; ++i) {
        const std::uint64_t wd = rand(0, 2000), cd = rand(0, 2000);
        const int r = rt.block_on(close_round(&l, wd, cd));
        ASSERT_TRUE(r == 1 || r == -1) << "round " << i << ": outcome " << r;
        cancelled += r == -1;
    }
    RecordProperty("cancelled_rounds", cancelled);
}

TEST_F(net_stress, runtime_shutdown_with_readers_waiting_frees_everything) {
    for (int i = 0; i < static_cast<int>(scaled(200)); ++i) {
        auto rt = rill::builder::new_multi_thread().worker_threads(2).enable_all().build();
        auto l = rt.block_on([]() -> rill::task<rill::net::tcp_listener> {
            co_return rill::net::tcp_listener::bind("127.0.0.1:0");
        }());
        auto c = std::make_unique<conn>(rt.block_on(connect_pair(&l)));
        auto h = rt.spawn(read_some(&c->server));
        auto w = rt.spawn(write_byte(&c->client, rand(0, 3000)));
        // The runtime goes first: the reader is destroyed (or finished), the sockets
        // outlive it and are closed afterwards by their owner.
        rt.shutdown_background();
        c.reset();
        (void)h;
        (void)w;
    }
}

}  // namespace
