// Seeded stress for rill::io::duplex: a writer and a reader task on different workers
// (every byte checked, random buffer and chunk sizes), a waiting read destroyed while
// the peer writes (no byte lost or duplicated, no wake reaching a dead awaiter), a
// waiting write destroyed while the peer reads or drops, and copy_bidirectional under
// random sizes. Replay a failure with RILL_SEED=<seed>.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "rill/io/copy.hpp"
#include "rill/io/duplex.hpp"
#include "rill/io/read.hpp"
#include "rill/io/split.hpp"
#include "rill/io/write.hpp"
#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

using rill::io::duplex_stream;
using rill::test::make_mock;
using rill_test::scaled;

class io_stress : public rill_test::seeded {};

std::byte pattern(std::uint64_t seed, std::uint64_t i) {
    return static_cast<std::byte>((i * 2654435761u + seed) >> 7);
}

rill::task<std::uint64_t> send_pattern(duplex_stream s, std::uint64_t seed, std::uint64_t total, std::size_t max_chunk) {
    std::vector<std::byte> chunk(max_chunk);
    std::uint64_t sent = 0;
    std::uint64_t r = seed;
    while (sent < total) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(1 + (r >> 33) % max_chunk, total - sent));
        for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(seed, sent + i);
        co_await rill::io::write_all(s, std::span<const std::byte>(chunk.data(), n));
        sent += n;
        if ((r >> 20) % 7 == 0) co_await rill::yield_now();
    }
    co_await s.shutdown();
    co_return sent;
}

rill::task<std::uint64_t> check_pattern(duplex_stream s, std::uint64_t seed, std::size_t max_chunk) {
    std::vector<std::byte> buf(max_chunk);
    std::uint64_t got = 0;
    std::uint64_t r = seed ^ 0x9e3779b97f4a7c15ull;
    for (;;) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        const std::size_t want = 1 + static_cast<std::size_t>((r >> 33) % max_chunk);
        const std::size_t n = co_await s.read(std::span<std::byte>(buf.data(), want));
        if (n == 0) co_return got;
        for (std::size_t i = 0; i < n; ++i)
            if (buf[i] != pattern(seed, got + i)) throw std::runtime_error("byte " + std::to_string(got + i) + " corrupt");
        got += n;
    }
}

rill::task<bool> one_pair(std::uint64_t seed, std::size_t max_buf, std::uint64_t total, std::size_t chunk) {
    auto [a, b] = rill::io::duplex(max_buf);
    auto w = rill::spawn(send_pattern(std::move(a), seed, total, chunk));
    auto r = rill::spawn(check_pattern(std::move(b), seed, chunk));
    const std::uint64_t sent = co_await w;
    const std::uint64_t got = co_await r;
    co_return sent == total && got == total;
}

TEST_F(io_stress, writer_and_reader_on_two_workers_move_every_byte_intact) {
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 2);
    const int rounds = static_cast<int>(scaled(200));
    for (int i = 0; i < rounds; ++i) {
        const std::size_t max_buf = static_cast<std::size_t>(rand(1, 4096));
        const std::uint64_t total = rand(0, 200'000);
        const std::size_t chunk = static_cast<std::size_t>(rand(1, 3000));
        ASSERT_TRUE(rt.block_on(one_pair(seed() + static_cast<std::uint64_t>(i), max_buf, total, chunk)))
            << "round " << i << " max_buf=" << max_buf << " total=" << total;
    }
}

TEST_F(io_stress, a_waiting_read_destroyed_while_the_peer_writes_loses_nothing) {
    const int rounds = static_cast<int>(scaled(10'000));
    std::unique_ptr<duplex_stream> a, b;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer writer([&](std::uint64_t) {
        rill_test::spin(delay.load());
        auto w = make_mock(a->write(rill::io::as_bytes("xyz")));
        if (!w.poll().is_ready()) std::abort();
    });
    std::vector<std::byte> buf(8);
    for (int i = 0; i < rounds; ++i) {
        auto pair = rill::io::duplex(64);
        a = std::make_unique<duplex_stream>(std::move(pair.first));
        b = std::make_unique<duplex_stream>(std::move(pair.second));
        auto r = std::unique_ptr<rill::test::mock_task<std::size_t>>(new rill::test::mock_task<std::size_t>(make_mock(b->read(buf))));
        std::size_t got = 0;
        auto first = r->poll();
        if (first.is_ready()) {
            got = *first;
            r.reset();
        }
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        writer.round([&](std::uint64_t) {
            rill_test::spin(mine);
            r.reset();  // destroyed waiting, woken, or never woken
        });
        // Everything written is still readable exactly once.
        while (got < 3) {
            auto again = make_mock(b->read(std::span<std::byte>(buf).subspan(got)));
            auto n = again.poll();
            ASSERT_TRUE(n.is_ready()) << "round " << i << ": bytes lost";
            got += *n;
        }
        ASSERT_EQ(got, 3u);
        {
            auto extra = make_mock(b->read(buf));  // destroyed before the stream
            ASSERT_TRUE(extra.poll().is_pending()) << "round " << i << ": bytes duplicated";
        }
        a.reset();
        b.reset();
    }
}

TEST_F(io_stress, a_waiting_write_destroyed_while_the_peer_reads_or_drops) {
    const int rounds = static_cast<int>(scaled(10'000));
    std::unique_ptr<duplex_stream> a, b;
    std::atomic<std::uint64_t> delay{0};
    std::atomic<bool> drop{false};
    rill_test::racer peer([&](std::uint64_t) {
        rill_test::spin(delay.load());
        if (drop.load()) {
            b.reset();
        } else {
            std::vector<std::byte> buf(2);
            auto r = make_mock(b->read(buf));
            if (!r.poll().is_ready()) std::abort();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        auto pair = rill::io::duplex(2);
        a = std::make_unique<duplex_stream>(std::move(pair.first));
        b = std::make_unique<duplex_stream>(std::move(pair.second));
        ASSERT_TRUE(make_mock(a->write(rill::io::as_bytes("ab"))).poll().is_ready());
        auto w = std::unique_ptr<rill::test::mock_task<std::size_t>>(new rill::test::mock_task<std::size_t>(make_mock(a->write(rill::io::as_bytes("cd")))));
        ASSERT_TRUE(w->poll().is_pending());
        drop = coin();
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        peer.round([&](std::uint64_t) {
            rill_test::spin(mine);
            w.reset();
        });
        a.reset();
        b.reset();
    }
}

rill::task<void> echo_until_eof(duplex_stream s) {
    std::vector<std::byte> buf(97);
    for (;;) {
        const std::size_t n = co_await s.read(std::span<std::byte>(buf));
        if (n == 0) break;
        co_await rill::io::write_all(s, std::span<const std::byte>(buf.data(), n));
    }
    co_await s.shutdown();
}

rill::task<rill::io::copy_counts> proxy(duplex_stream a, duplex_stream b) {
    co_return co_await rill::io::copy_bidirectional(a, b);
}

rill::task<std::uint64_t> client_half_write(rill::io::write_half<duplex_stream> w, std::uint64_t seed, std::uint64_t total) {
    std::vector<std::byte> chunk(500);
    std::uint64_t sent = 0;
    while (sent < total) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), total - sent));
        for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(seed, sent + i);
        co_await rill::io::write_all(w, std::span<const std::byte>(chunk.data(), n));
        sent += n;
    }
    co_await w.shutdown();
    co_return sent;
}

rill::task<std::uint64_t> client_half_read(rill::io::read_half<duplex_stream> r, std::uint64_t seed) {
    std::vector<std::byte> buf(333);
    std::uint64_t got = 0;
    for (;;) {
        const std::size_t n = co_await r.read(std::span<std::byte>(buf));
        if (n == 0) co_return got;
        for (std::size_t i = 0; i < n; ++i)
            if (buf[i] != pattern(seed, got + i)) throw std::runtime_error("echo corrupt");
        got += n;
    }
}

rill::task<bool> proxied_echo(std::uint64_t seed, std::size_t buf1, std::size_t buf2, std::uint64_t total) {
    auto [c, pc] = rill::io::duplex(buf1);
    auto [ps, s] = rill::io::duplex(buf2);
    auto server = rill::spawn(echo_until_eof(std::move(s)));
    auto px = rill::spawn(proxy(std::move(pc), std::move(ps)));
    auto [rd, wr] = rill::io::split(std::move(c));
    auto r = rill::spawn(client_half_read(std::move(rd), seed));
    auto w = rill::spawn(client_half_write(std::move(wr), seed, total));
    const std::uint64_t sent = co_await w;
    const std::uint64_t got = co_await r;
    const rill::io::copy_counts counts = co_await px;
    co_await server;
    co_return sent == total && got == total && counts.a_to_b == total && counts.b_to_a == total;
}

TEST_F(io_stress, copy_bidirectional_proxy_with_split_client_on_many_workers) {
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 3);
    const int rounds = static_cast<int>(scaled(100));
    for (int i = 0; i < rounds; ++i) {
        const std::size_t b1 = static_cast<std::size_t>(rand(1, 2048));
        const std::size_t b2 = static_cast<std::size_t>(rand(1, 2048));
        const std::uint64_t total = rand(0, 50'000);
        ASSERT_TRUE(rt.block_on(proxied_echo(seed() + static_cast<std::uint64_t>(i), b1, b2, total)))
            << "round " << i << " b1=" << b1 << " b2=" << b2 << " total=" << total;
    }
}

}  // namespace
