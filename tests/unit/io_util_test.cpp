// rill::io free functions over duplex streams: read_exact (and its EOF error),
// write_all, read_to_end, read_to_string, copy, copy_bidirectional (both directions at
// once, EOF in one direction shuts the other side's write), split halves used by two
// tasks, and a user-written stream type satisfying the concepts. Regressions: copy into
// a buf_writer flushes whenever the reader has nothing more for now (no stalled
// request/response); a copy_bidirectional pinned in a select loop completes safely when
// both peers close while it is not awaited.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "rill/future/by_ref.hpp"
#include "rill/io/buf_writer.hpp"
#include "rill/io/copy.hpp"
#include "rill/io/duplex.hpp"
#include "rill/io/read.hpp"
#include "rill/io/split.hpp"
#include "rill/io/write.hpp"
#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using namespace std::chrono_literals;
using rill::io::as_bytes;
using rill::io::duplex_stream;

std::string str(const std::vector<std::byte>& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// A user type: reads from a string, counts what is written. Its read returns a task.
struct string_stream {
    std::string in;
    std::size_t pos = 0;
    std::string out;
    bool shut = false;
    rill::task<std::size_t> read(std::span<std::byte> buf) {
        const std::size_t n = std::min<std::size_t>({buf.size(), in.size() - pos, 3});
        std::memcpy(buf.data(), in.data() + pos, n);
        pos += n;
        co_return n;
    }
    rill::task<std::size_t> write(std::span<const std::byte> buf) {
        const std::size_t n = std::min<std::size_t>(buf.size(), 2);  // partial writes
        out.append(reinterpret_cast<const char*>(buf.data()), n);
        co_return n;
    }
    rill::io::ready_void flush() { return {}; }
    rill::task<void> shutdown() {
        shut = true;
        co_return;
    }
};
static_assert(rill::io::async_read<string_stream> && rill::io::async_write<string_stream>);
static_assert(!rill::io::async_read<int>);

class io_util : public rill_test::both_flavors {};

rill::task<void> write_then_close(duplex_stream* s, std::string data) {
    co_await rill::io::write_all(*s, as_bytes(data));
    co_await s->shutdown();
}

rill::task<std::string> exact_then_rest(std::size_t exact) {
    auto [a, b] = rill::io::duplex(5);
    auto w = rill::spawn(write_then_close(&a, "0123456789abcdef"));
    std::vector<std::byte> head(exact);
    co_await rill::io::read_exact(b, head);
    std::string rest;
    co_await rill::io::read_to_string(b, rest);
    co_await w;
    co_return str(head) + "|" + rest;
}

TEST_P(io_util, read_exact_then_read_to_string) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(exact_then_rest(10)), "0123456789|abcdef");
}

// Errors are caught inside the task and returned as values: an exception rethrown by
// block_on on the test thread while a worker drops the root frame's reference is a
// TSan false positive (libstdc++'s exception and COW-string refcounts are not
// instrumented).
rill::task<std::string> read_exact_past_eof() {
    auto [a, b] = rill::io::duplex(64);
    co_await rill::io::write_all(a, as_bytes("short"));
    co_await a.shutdown();
    std::vector<std::byte> buf(10);
    try {
        co_await rill::io::read_exact(b, buf);
    } catch (const std::system_error& e) {
        co_return std::string(e.code() == rill::io::errc::unexpected_eof ? "eof: " : "other: ") + e.what();
    }
    co_return "no error";
}

TEST_P(io_util, read_exact_throws_unexpected_eof_when_the_stream_ends_early) {
    auto rt = this->rt();
    const std::string r = rt.block_on(read_exact_past_eof());
    EXPECT_EQ(r.rfind("eof: ", 0), 0u) << r;
    EXPECT_NE(r.find("unexpected end of stream"), std::string::npos) << r;
}

rill::task<std::size_t> to_end(std::size_t total) {
    auto [a, b] = rill::io::duplex(1000);
    std::string data(total, 'q');
    auto w = rill::spawn(write_then_close(&a, data));
    std::vector<std::byte> out;
    const std::size_t n = co_await rill::io::read_to_end(b, out);
    co_await w;
    if (n != out.size() || str(out) != data) throw std::runtime_error("read_to_end mismatch");
    co_return n;
}

TEST_P(io_util, read_to_end_reads_everything) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(to_end(100'000)), 100'000u);
}

rill::task<std::uint64_t> copy_and_collect(std::string* got) {
    auto [src_w, src_r] = rill::io::duplex(7);
    auto [dst_w, dst_r] = rill::io::duplex(11);
    auto w = rill::spawn(write_then_close(&src_w, std::string(5000, 'c') + "end"));
    auto collect = [](duplex_stream* s, std::string* out) -> rill::task<void> {
        co_await rill::io::read_to_string(*s, *out);
    };
    auto c = rill::spawn(collect(&dst_r, got));
    const std::uint64_t n = co_await rill::io::copy(src_r, dst_w);
    co_await dst_w.shutdown();
    co_await c;
    co_await w;
    co_return n;
}

TEST_P(io_util, copy_moves_every_byte_and_returns_the_count) {
    auto rt = this->rt();
    std::string got;
    EXPECT_EQ(rt.block_on(copy_and_collect(&got)), 5003u);
    EXPECT_EQ(got, std::string(5000, 'c') + "end");
}

rill::task<std::uint64_t> copy_into(duplex_stream* src, rill::io::buf_writer<duplex_stream&>* dst) {
    co_return co_await rill::io::copy(*src, *dst);
}

// client -> [copy(src, buf_writer(dst))] -> server, the client's side staying open: the
// request must reach the server without waiting for EOF (Tokio's copy flushes whenever
// the reader has nothing more for now). Returns the bytes the server got in time.
rill::task<std::string> copy_request_into_a_buf_writer() {
    auto [client, src] = rill::io::duplex(1024);
    auto [dst, server] = rill::io::duplex(1024);
    rill::io::buf_writer<duplex_stream&> w(dst);
    auto pump = rill::spawn(copy_into(&src, &w));
    co_await rill::io::write_all(client, as_bytes("ping\n"));
    std::array<std::byte, 16> buf{};
    std::size_t n = 0;
    try {
        n = co_await rill::time::timeout(1s, server.read(buf));
    } catch (const rill::time::elapsed&) {
    }
    co_await client.shutdown();
    co_await pump;
    co_return std::string(reinterpret_cast<const char*>(buf.data()), n);
}

TEST(io_util_copy, flushes_a_buffered_writer_when_the_reader_has_nothing_more) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(copy_request_into_a_buf_writer()), "ping\n");
}

// client <-> [proxy: copy_bidirectional(p_client, p_server)] <-> server
rill::task<void> echo_upper(duplex_stream s) {
    std::vector<std::byte> buf(64);
    for (;;) {
        const std::size_t n = co_await s.read(std::span<std::byte>(buf));
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::byte>(std::toupper(static_cast<int>(buf[i])));
        co_await rill::io::write_all(s, std::span<const std::byte>(buf.data(), n));
    }
    co_await rill::io::write_all(s, as_bytes("<bye>"));
    co_await s.shutdown();
}

rill::task<rill::io::copy_counts> proxy(duplex_stream a, duplex_stream b) {
    co_return co_await rill::io::copy_bidirectional(a, b);
}

rill::task<std::string> client(duplex_stream s) {
    co_await rill::io::write_all(s, as_bytes("hello proxy"));
    co_await s.shutdown();  // the proxy shuts the server's side, the server says bye
    std::string reply;
    co_await rill::io::read_to_string(s, reply);
    co_return reply;
}

rill::task<std::string> run_proxy(rill::io::copy_counts* counts) {
    auto [c, p_client] = rill::io::duplex(4);
    auto [p_server, s] = rill::io::duplex(3);
    auto server = rill::spawn(echo_upper(std::move(s)));
    auto px = rill::spawn(proxy(std::move(p_client), std::move(p_server)));
    std::string reply = co_await client(std::move(c));
    *counts = co_await px;
    co_await server;
    co_return reply;
}

TEST_P(io_util, copy_bidirectional_copies_both_ways_and_passes_eof_on) {
    auto rt = this->rt();
    rill::io::copy_counts counts;
    EXPECT_EQ(rt.block_on(run_proxy(&counts)), "HELLO PROXY<bye>");
    EXPECT_EQ(counts.a_to_b, 11u);
    EXPECT_EQ(counts.b_to_a, 16u);
}

rill::task<int> proxy_to_dead_peer() {
    auto [c, p_client] = rill::io::duplex(4);
    auto pair = rill::io::duplex(4);
    duplex_stream p_server = std::move(pair.first);
    { duplex_stream gone = std::move(pair.second); }  // the server end is closed
    co_await rill::io::write_all(c, as_bytes("data"));  // fits the buffer: no wait
    try {
        (void)co_await rill::io::copy_bidirectional(p_client, p_server);
    } catch (const std::system_error& e) {
        co_return e.code().value();
    }
    co_return 0;
}

TEST_P(io_util, copy_bidirectional_rethrows_an_error_of_one_direction) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(proxy_to_dead_peer()), EPIPE);
}

rill::task<int> tick(rill::time::duration d) {
    co_await rill::time::sleep(d);
    co_return 1;
}

// A proxy's select loop: the copy is pinned and awaited by reference, raced against a
// tick. Both peers close between two selects, while nobody awaits the copy: it must
// neither run on nor finish into the select that was destroyed, and the next select
// must see it complete. Returns the ticks seen before it completed.
rill::task<int> pinned_copy_in_a_select_loop() {
    auto [client, pa] = rill::io::duplex(64);
    auto [pb, server] = rill::io::duplex(64);
    auto op = rill::io::copy_bidirectional(pa, pb);
    int ticks = 0;
    for (;;) {
        auto r = co_await rill::future::select(rill::future::by_ref(op), tick(10ms));
        if (r.index() == 0) co_return ticks;
        ++ticks;
        if (ticks == 2) {
            co_await client.shutdown();
            co_await server.shutdown();
            co_await rill::time::sleep(1ms);  // the wakes reach the task while op is not awaited
        }
    }
}

TEST(io_util_copy_bidirectional, completes_safely_when_pinned_in_a_select_loop) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(pinned_copy_in_a_select_loop()), 2);
}

rill::task<std::string> read_half_loop(rill::io::read_half<duplex_stream> rd) {
    std::string got;
    co_await rill::io::read_to_string(rd, got);
    co_return got;
}

rill::task<void> write_half_loop(rill::io::write_half<duplex_stream> wr) {
    for (int i = 0; i < 100; ++i) co_await rill::io::write_all(wr, as_bytes("0123456789"));
    co_await wr.shutdown();
}

rill::task<std::string> split_echo() {
    // The far end echoes; our end is split between a reader task and a writer task.
    auto [ours, theirs] = rill::io::duplex(16);
    auto echo = rill::spawn(echo_upper(std::move(theirs)));
    auto [rd, wr] = rill::io::split(std::move(ours));
    auto r = rill::spawn(read_half_loop(std::move(rd)));
    auto w = rill::spawn(write_half_loop(std::move(wr)));
    co_await w;
    co_await echo;
    co_return co_await r;
}

TEST_P(io_util, split_halves_read_and_write_from_two_tasks_at_once) {
    auto rt = this->rt();
    std::string expected;
    for (int i = 0; i < 100; ++i) expected += "0123456789";
    expected += "<bye>";
    EXPECT_EQ(rt.block_on(split_echo()), expected);
}

TEST(io_util_split, unsplit_gives_the_stream_back_and_refuses_foreign_halves) {
    auto [a, b] = rill::io::duplex(8);
    auto [r1, w1] = rill::io::split(std::move(a));
    auto [r2, w2] = rill::io::split(std::move(b));
    EXPECT_TRUE(r1.is_pair_of(w1));
    EXPECT_FALSE(r1.is_pair_of(w2));
    EXPECT_THROW((void)rill::io::unsplit(std::move(r1), std::move(w2)), std::invalid_argument);
    auto [c, d] = rill::io::duplex(8);
    auto [r3, w3] = rill::io::split(std::move(c));
    duplex_stream back = rill::io::unsplit(std::move(r3), std::move(w3));
    auto w = rill::test::make_mock(back.write(as_bytes("ok")));
    EXPECT_EQ(*w.poll(), 2u);
}

rill::task<std::string> user_stream_roundtrip(string_stream* s) {
    std::vector<std::byte> buf(5);
    co_await rill::io::read_exact(*s, buf);
    co_await rill::io::write_all(*s, buf);
    std::string rest;
    co_await rill::io::read_to_string(*s, rest);
    co_return str(buf) + "/" + rest;
}

TEST_P(io_util, user_types_work_with_every_helper) {
    auto rt = this->rt();
    string_stream s;
    s.in = "abcdefghij";
    EXPECT_EQ(rt.block_on(user_stream_roundtrip(&s)), "abcde/fghij");
    EXPECT_EQ(s.out, "abcde");
}

RILL_BOTH_FLAVORS(io_util);

}  // namespace
