// rill::io::duplex: ordered delivery, backpressure at max_buf, EOF on shutdown and on
// drop of the peer, EPIPE for writes to a dropped peer, and cancel safety of waiting
// reads and writes (a destroyed read or write transfers nothing).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "rill/io/duplex.hpp"
#include "rill/io/read.hpp"
#include "rill/io/write.hpp"
#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::io::as_bytes;
using rill::test::make_mock;

static_assert(rill::io::async_read<rill::io::duplex_stream>);
static_assert(rill::io::async_write<rill::io::duplex_stream>);

std::span<std::byte> bytes(std::vector<std::byte>& v) { return {v.data(), v.size()}; }
std::string str(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

TEST(io_duplex, bytes_written_on_one_end_are_read_on_the_other_in_order) {
    auto [a, b] = rill::io::duplex(64);
    auto w = make_mock(a.write(as_bytes("hello")));
    auto r1 = w.poll();
    ASSERT_TRUE(r1.is_ready());
    EXPECT_EQ(*r1, 5u);
    std::vector<std::byte> buf(3);
    auto r = make_mock(b.read(bytes(buf)));
    auto got = r.poll();
    ASSERT_TRUE(got.is_ready());
    EXPECT_EQ(*got, 3u);
    EXPECT_EQ(str({buf.data(), 3}), "hel");
    auto r2 = make_mock(b.read(bytes(buf)));
    auto got2 = r2.poll();
    ASSERT_TRUE(got2.is_ready());
    EXPECT_EQ(str({buf.data(), *got2}), "lo");
}

TEST(io_duplex, read_waits_until_data_arrives) {
    auto [a, b] = rill::io::duplex(64);
    std::vector<std::byte> buf(8);
    auto r = make_mock(b.read(bytes(buf)));
    EXPECT_TRUE(r.poll().is_pending());
    EXPECT_EQ(r.waker_count(), 1u);
    auto w = make_mock(a.write(as_bytes("x")));
    ASSERT_TRUE(w.poll().is_ready());
    EXPECT_TRUE(r.is_woken());
    auto got = r.poll();
    ASSERT_TRUE(got.is_ready());
    EXPECT_EQ(*got, 1u);
}

TEST(io_duplex, write_is_partial_then_waits_while_the_buffer_is_full) {
    auto [a, b] = rill::io::duplex(4);
    auto w1 = make_mock(a.write(as_bytes("abcdef")));
    auto n1 = w1.poll();
    ASSERT_TRUE(n1.is_ready());
    EXPECT_EQ(*n1, 4u);  // only what fits
    auto w2 = make_mock(a.write(as_bytes("ef")));
    EXPECT_TRUE(w2.poll().is_pending());  // backpressure
    std::vector<std::byte> buf(2);
    auto r = make_mock(b.read(bytes(buf)));
    ASSERT_TRUE(r.poll().is_ready());
    EXPECT_TRUE(w2.is_woken());
    auto n2 = w2.poll();
    ASSERT_TRUE(n2.is_ready());
    EXPECT_EQ(*n2, 2u);
}

TEST(io_duplex, shutdown_gives_eof_after_the_buffered_bytes) {
    auto [a, b] = rill::io::duplex(64);
    ASSERT_TRUE(make_mock(a.write(as_bytes("end"))).poll().is_ready());
    ASSERT_TRUE(make_mock(a.shutdown()).poll().is_ready());
    std::vector<std::byte> buf(16);
    auto r = make_mock(b.read(bytes(buf)));
    auto n = r.poll();
    ASSERT_TRUE(n.is_ready());
    EXPECT_EQ(*n, 3u);
    auto r2 = make_mock(b.read(bytes(buf)));
    auto n2 = r2.poll();
    ASSERT_TRUE(n2.is_ready());
    EXPECT_EQ(*n2, 0u);
    // A write after our own shutdown is a broken pipe.
    auto w = make_mock(a.write(as_bytes("more")));
    try {
        w.poll();
        FAIL() << "write after shutdown succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EPIPE);
    }
}

TEST(io_duplex, shutdown_wakes_a_waiting_reader_with_eof) {
    auto [a, b] = rill::io::duplex(64);
    std::vector<std::byte> buf(16);
    auto r = make_mock(b.read(bytes(buf)));
    EXPECT_TRUE(r.poll().is_pending());
    ASSERT_TRUE(make_mock(a.shutdown()).poll().is_ready());
    EXPECT_TRUE(r.is_woken());
    EXPECT_EQ(*r.poll(), 0u);
}

TEST(io_duplex, dropping_an_end_gives_eof_to_reads_and_epipe_to_writes) {
    auto pair = rill::io::duplex(4);
    rill::io::duplex_stream b = std::move(pair.second);
    std::vector<std::byte> buf(16);
    {
        rill::io::duplex_stream a = std::move(pair.first);
        ASSERT_TRUE(make_mock(a.write(as_bytes("ab"))).poll().is_ready());
    }
    auto r = make_mock(b.read(bytes(buf)));
    EXPECT_EQ(*r.poll(), 2u);  // buffered bytes survive the peer
    auto r2 = make_mock(b.read(bytes(buf)));
    EXPECT_EQ(*r2.poll(), 0u);
    auto w = make_mock(b.write(as_bytes("x")));
    EXPECT_THROW(w.poll(), std::system_error);
}

TEST(io_duplex, dropping_the_reader_fails_a_waiting_writer) {
    auto pair = rill::io::duplex(2);
    rill::io::duplex_stream a = std::move(pair.first);
    std::optional<rill::io::duplex_stream> b(std::move(pair.second));
    ASSERT_TRUE(make_mock(a.write(as_bytes("ab"))).poll().is_ready());
    auto w = make_mock(a.write(as_bytes("c")));
    EXPECT_TRUE(w.poll().is_pending());
    b.reset();
    EXPECT_TRUE(w.is_woken());
    try {
        w.poll();
        FAIL() << "write to a dropped peer succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::broken_pipe);
    }
}

TEST(io_duplex, a_destroyed_read_loses_nothing) {
    auto [a, b] = rill::io::duplex(64);
    std::vector<std::byte> buf(16);
    {
        auto r = make_mock(b.read(bytes(buf)));
        EXPECT_TRUE(r.poll().is_pending());
        ASSERT_TRUE(make_mock(a.write(as_bytes("kept"))).poll().is_ready());
        EXPECT_TRUE(r.is_woken());
        // destroyed woken but not resumed
    }
    auto r2 = make_mock(b.read(bytes(buf)));
    auto n = r2.poll();
    ASSERT_TRUE(n.is_ready());
    EXPECT_EQ(str({buf.data(), *n}), "kept");
}

TEST(io_duplex, a_destroyed_write_writes_nothing_and_releases_its_waker) {
    auto [a, b] = rill::io::duplex(2);
    ASSERT_TRUE(make_mock(a.write(as_bytes("ab"))).poll().is_ready());
    {
        auto w = make_mock(a.write(as_bytes("zz")));
        EXPECT_TRUE(w.poll().is_pending());
        EXPECT_EQ(w.waker_count(), 1u);
    }
    ASSERT_TRUE(make_mock(b.shutdown()).poll().is_ready());
    ASSERT_TRUE(make_mock(a.shutdown()).poll().is_ready());
    std::vector<std::byte> buf(16);
    std::string all;
    for (;;) {
        auto r = make_mock(b.read(bytes(buf)));
        auto n = r.poll();
        ASSERT_TRUE(n.is_ready());
        if (*n == 0) break;
        all += str({buf.data(), *n});
    }
    EXPECT_EQ(all, "ab");
}

TEST(io_duplex, two_reads_in_flight_on_one_end_are_refused) {
    auto [a, b] = rill::io::duplex(8);
    std::vector<std::byte> buf(4);
    auto r1 = make_mock(b.read(bytes(buf)));
    EXPECT_TRUE(r1.poll().is_pending());
    auto r2 = make_mock(b.read(bytes(buf)));
    EXPECT_THROW(r2.poll(), std::logic_error);
}

TEST(io_duplex, zero_max_buf_is_rejected) { EXPECT_THROW((void)rill::io::duplex(0), std::invalid_argument); }

// --- in a runtime ---------------------------------------------------------------------

rill::task<std::uint64_t> writer(rill::io::duplex_stream s, std::size_t total) {
    std::vector<std::byte> chunk(1000);
    std::size_t sent = 0;
    while (sent < total) {
        const std::size_t n = std::min(chunk.size(), total - sent);
        for (std::size_t i = 0; i < n; ++i) chunk[i] = static_cast<std::byte>((sent + i) % 251);
        co_await rill::io::write_all(s, std::span<const std::byte>(chunk.data(), n));
        sent += n;
    }
    co_await s.shutdown();
    co_return sent;
}

rill::task<std::uint64_t> reader(rill::io::duplex_stream s) {
    std::vector<std::byte> buf(777);
    std::uint64_t got = 0;
    for (;;) {
        const std::size_t n = co_await s.read(std::span<std::byte>(buf));
        if (n == 0) co_return got;
        for (std::size_t i = 0; i < n; ++i)
            if (buf[i] != static_cast<std::byte>((got + i) % 251)) throw std::runtime_error("corrupt byte");
        got += n;
    }
}

rill::task<std::uint64_t> pump(std::size_t total) {
    auto [a, b] = rill::io::duplex(256);
    auto w = rill::spawn(writer(std::move(a), total));
    auto r = rill::spawn(reader(std::move(b)));
    const std::uint64_t sent = co_await w;
    const std::uint64_t got = co_await r;
    if (sent != got) throw std::runtime_error("count mismatch");
    co_return got;
}

class io_duplex_rt : public rill_test::both_flavors {};

TEST_P(io_duplex_rt, a_writer_and_a_reader_task_move_every_byte_through_a_small_buffer) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(pump(200'000)), 200'000u);
}

rill::task<void> read_forever(rill::io::duplex_stream* s, std::atomic<bool>* started) {
    std::vector<std::byte> buf(8);
    started->store(true);
    for (;;) {
        if (co_await s->read(std::span<std::byte>(buf)) == 0) co_return;
    }
}

TEST_P(io_duplex_rt, aborting_a_task_blocked_in_read_releases_it) {
    auto rt = this->rt();
    auto [a, b] = rill::io::duplex(8);
    rt.block_on([](rill::io::duplex_stream* s) -> rill::task<void> {
        std::atomic<bool> started{false};
        auto h = rill::spawn(read_forever(s, &started));
        while (!started.load()) co_await rill::yield_now();
        for (int i = 0; i < 10; ++i) co_await rill::yield_now();  // most likely waiting in read now
        h.abort();
        try {
            co_await h;
        } catch (const rill::join_error&) {
        }
    }(&b));
    // The aborted read withdrew: a new read on the same end is allowed.
    ASSERT_TRUE(make_mock(a.write(as_bytes("x"))).poll().is_ready());
    std::vector<std::byte> buf(8);
    auto r = make_mock(b.read(bytes(buf)));
    EXPECT_EQ(*r.poll(), 1u);
}

RILL_BOTH_FLAVORS(io_duplex_rt);

}  // namespace
