// buf_reader and buf_writer over duplex streams: lines (with "\r\n"), read_until,
// fill_buf/consume, lines longer than the capacity, EOF without a final newline;
// buffered writes (an empty one is ready with 0), flush and shutdown; cancel safety: a
// read_line destroyed mid-line loses nothing (the reader keeps the partial line), an
// interrupted flush resumes.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "rill/io/buf_reader.hpp"
#include "rill/io/buf_writer.hpp"
#include "rill/io/duplex.hpp"
#include "rill/io/read.hpp"
#include "rill/io/write.hpp"
#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::io::as_bytes;
using rill::io::duplex_stream;
using rill::test::make_mock;

static_assert(rill::io::async_read<rill::io::buf_reader<duplex_stream>>);
static_assert(rill::io::async_write<rill::io::buf_reader<duplex_stream>>);  // pass-through
static_assert(rill::io::async_write<rill::io::buf_writer<duplex_stream>>);
static_assert(rill::io::async_read<rill::io::buf_writer<duplex_stream&>>);

void put(duplex_stream& s, std::string_view text) {
    auto w = make_mock(rill::io::write_all(s, as_bytes(text)));
    ASSERT_TRUE(w.poll().is_ready());
}

TEST(io_buf_reader, read_line_keeps_the_newline_and_returns_0_at_eof) {
    auto [a, b] = rill::io::duplex(1024);
    put(a, "one\ntwo\r\nthree");
    ASSERT_TRUE(make_mock(a.shutdown()).poll().is_ready());
    rill::io::buf_reader r(std::move(b));
    std::string line;
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 4u);
    EXPECT_EQ(line, "one\n");
    line.clear();
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 5u);
    EXPECT_EQ(line, "two\r\n");
    line.clear();
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 5u);
    EXPECT_EQ(line, "three");  // last line without newline
    line.clear();
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 0u);
    EXPECT_EQ(line, "");
}

TEST(io_buf_reader, lines_strip_the_ending_and_end_with_nullopt) {
    auto [a, b] = rill::io::duplex(1024);
    put(a, "alpha\r\nbeta\n\ngamma");
    ASSERT_TRUE(make_mock(a.shutdown()).poll().is_ready());
    rill::io::buf_reader r(b);  // by reference
    auto lines = r.lines();
    std::vector<std::string> got;
    for (;;) {
        auto m = make_mock(lines.next_line());
        auto l = m.poll();
        ASSERT_TRUE(l.is_ready());
        if (!l->has_value()) break;
        got.push_back(**l);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"alpha", "beta", "", "gamma"}));
}

TEST(io_buf_reader, a_line_longer_than_the_capacity_grows_the_buffer_then_it_shrinks_back) {
    auto [a, b] = rill::io::duplex(1 << 16);
    const std::string longline(1000, 'x');
    put(a, longline + "\nshort\n");
    rill::io::buf_reader r(std::move(b), 16);
    EXPECT_EQ(r.capacity(), 16u);
    std::string line;
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 1001u);
    EXPECT_EQ(line, longline + "\n");
    EXPECT_GE(r.capacity(), 1001u);
    line.clear();
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 6u);
    EXPECT_EQ(line, "short\n");
    // The long line is gone: the next line read shrinks the buffer back.
    put(a, "third\n");
    line.clear();
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 6u);
    EXPECT_EQ(line, "third\n");
    EXPECT_EQ(r.capacity(), 16u);
}

TEST(io_buf_reader, read_until_and_fill_buf_consume) {
    auto [a, b] = rill::io::duplex(1024);
    put(a, "k1=v1;k2=v2;tail");
    ASSERT_TRUE(make_mock(a.shutdown()).poll().is_ready());
    rill::io::buf_reader r(std::move(b));
    std::vector<std::byte> out;
    EXPECT_EQ(*make_mock(r.read_until(std::byte{';'}, out)).poll(), 6u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()), "k1=v1;");
    auto f = make_mock(r.fill_buf());
    auto avail = f.poll();
    ASSERT_TRUE(avail.is_ready());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(avail->data()), avail->size()), "k2=v2;tail");
    r.consume(3);
    std::string rest;
    EXPECT_EQ(*make_mock(rill::io::read_to_string(r, rest)).poll(), 7u);
    EXPECT_EQ(rest, "v2;tail");
}

TEST(io_buf_reader, a_read_line_destroyed_mid_line_loses_nothing) {
    auto [a, b] = rill::io::duplex(1024);
    rill::io::buf_reader r(std::move(b), 8);
    put(a, "hello wor");  // half a line, longer than the capacity
    {
        std::string never;
        auto m = make_mock(r.read_line(never));
        EXPECT_TRUE(m.poll().is_pending());  // waits for the rest of the line
        EXPECT_EQ(never, "");                // nothing handed out yet
    }  // cancelled
    put(a, "ld\nnext\n");
    std::string line;
    EXPECT_EQ(*make_mock(r.read_line(line)).poll(), 12u);
    EXPECT_EQ(line, "hello world\n");
    auto lines = r.lines();
    {
        auto m = make_mock(lines.next_line());
        auto l = m.poll();
        ASSERT_TRUE(l.is_ready());
        EXPECT_EQ(l->value(), "next");
    }
    {
        put(a, "par");
        auto m = make_mock(lines.next_line());
        EXPECT_TRUE(m.poll().is_pending());
    }
    put(a, "tial\n");
    auto m = make_mock(lines.next_line());
    auto l = m.poll();
    ASSERT_TRUE(l.is_ready());
    EXPECT_EQ(l->value(), "partial");
}

TEST(io_buf_reader, large_reads_bypass_the_buffer) {
    auto [a, b] = rill::io::duplex(1024);
    put(a, "0123456789");
    rill::io::buf_reader r(std::move(b), 4);
    std::vector<std::byte> big(10);
    EXPECT_EQ(*make_mock(r.read(big)).poll(), 10u);
    EXPECT_TRUE(r.buffer().empty());
}

// A read_line under rill::time::timeout: the deadline passes while half a line is
// buffered (the read_line is destroyed), then the rest arrives and the next read_line
// returns the whole line. The paused clock makes the timeout fire as soon as the
// runtime is idle.
rill::task<std::string> line_with_timeouts() {
    auto [a, b] = rill::io::duplex(1024);
    rill::io::buf_reader r(std::move(b), 4);
    co_await rill::io::write_all(a, as_bytes("first half, "));
    std::string line;
    int timeouts = 0;
    try {
        co_await rill::time::timeout(std::chrono::milliseconds(10), r.read_line(line));
    } catch (const rill::time::elapsed&) {
        ++timeouts;
    }
    if (timeouts != 1 || !line.empty()) throw std::runtime_error("expected a timeout with nothing handed out");
    co_await rill::io::write_all(a, as_bytes("second half\n"));
    co_await rill::time::timeout(std::chrono::milliseconds(10), r.read_line(line));
    co_return line;
}

TEST(io_buf_reader, a_read_line_cancelled_by_timeout_keeps_the_partial_line) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(line_with_timeouts()), "first half, second half\n");
}

// --- buf_writer ---------------------------------------------------------------------------

std::string drain(duplex_stream& s) {
    std::string got;
    std::vector<std::byte> buf(4096);
    for (;;) {
        auto m = make_mock(s.read(buf));
        auto n = m.poll();
        if (n.is_pending() || *n == 0) break;
        got.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    return got;
}

TEST(io_buf_writer, small_writes_are_held_until_flush) {
    auto [a, b] = rill::io::duplex(1024);
    rill::io::buf_writer w(std::move(a), 64);
    EXPECT_EQ(*make_mock(w.write(as_bytes("abc"))).poll(), 3u);
    EXPECT_EQ(*make_mock(w.write(as_bytes("def"))).poll(), 3u);
    EXPECT_EQ(w.buffered(), 6u);
    EXPECT_EQ(drain(b), "");
    ASSERT_TRUE(make_mock(w.flush()).poll().is_ready());
    EXPECT_EQ(w.buffered(), 0u);
    EXPECT_EQ(drain(b), "abcdef");
}

TEST(io_buf_writer, an_empty_write_is_ready_with_0) {
    auto [a, b] = rill::io::duplex(64);
    rill::io::buf_writer w(std::move(a));
    const std::vector<std::byte> empty;  // data() is null
    auto m = make_mock(w.write(empty));
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 0u);
    EXPECT_EQ(w.buffered(), 0u);
}

TEST(io_buf_writer, a_full_buffer_is_written_out_and_big_writes_go_through) {
    auto [a, b] = rill::io::duplex(1024);
    rill::io::buf_writer w(std::move(a), 8);
    ASSERT_TRUE(make_mock(rill::io::write_all(w, as_bytes("12345"))).poll().is_ready());
    ASSERT_TRUE(make_mock(rill::io::write_all(w, as_bytes("6789"))).poll().is_ready());  // flushes "12345"
    EXPECT_EQ(drain(b), "12345");
    ASSERT_TRUE(make_mock(rill::io::write_all(w, as_bytes("ABCDEFGHIJ"))).poll().is_ready());  // >= capacity
    EXPECT_EQ(drain(b), "6789ABCDEFGHIJ");
}

TEST(io_buf_writer, shutdown_flushes_first) {
    auto [a, b] = rill::io::duplex(1024);
    rill::io::buf_writer w(std::move(a));
    ASSERT_TRUE(make_mock(rill::io::write_all(w, as_bytes("last words"))).poll().is_ready());
    ASSERT_TRUE(make_mock(w.shutdown()).poll().is_ready());
    std::string got;
    ASSERT_TRUE(make_mock(rill::io::read_to_string(b, got)).poll().is_ready());
    EXPECT_EQ(got, "last words");
}

TEST(io_buf_writer, an_interrupted_flush_resumes_without_loss_or_duplication) {
    auto [a, b] = rill::io::duplex(4);
    rill::io::buf_writer w(std::move(a), 64);
    ASSERT_TRUE(make_mock(rill::io::write_all(w, as_bytes("0123456789"))).poll().is_ready());
    {
        auto f = make_mock(w.flush());
        EXPECT_TRUE(f.poll().is_pending());  // 4 bytes went out, then the duplex is full
    }  // cancelled
    EXPECT_EQ(w.buffered(), 6u);
    EXPECT_EQ(drain(b), "0123");
    std::string rest;
    for (int i = 0; i < 10 && w.buffered() > 0; ++i) {
        auto f = make_mock(w.flush());
        (void)f.poll();
        rest += drain(b);
    }
    EXPECT_EQ(rest, "456789");
}

}  // namespace
