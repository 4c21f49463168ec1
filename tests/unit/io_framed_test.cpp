// framed with lines_codec and length_delimited_codec over duplex: round trips, frames
// split across reads, "\r\n", limits (over-long lines and frames throw frame_error and
// end that connection while the runtime keeps serving other pairs; a lines_codec with
// max_length SIZE_MAX has none), EOF inside a frame, and a next() destroyed mid-frame
// that loses nothing.
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "rill/io/duplex.hpp"
#include "rill/io/framed.hpp"
#include "rill/io/length_delimited_codec.hpp"
#include "rill/io/lines_codec.hpp"
#include "rill/io/write.hpp"
#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::io::as_bytes;
using rill::io::duplex_stream;
using rill::io::frame_buffer;
using rill::test::make_mock;

static_assert(rill::io::decoder<rill::io::lines_codec>);
static_assert(rill::io::decoder<rill::io::length_delimited_codec>);
static_assert(rill::io::encoder<rill::io::lines_codec, std::string>);
static_assert(rill::io::encoder<rill::io::length_delimited_codec, std::vector<std::byte>>);

std::vector<std::byte> bytes_of(std::string_view s) {
    auto b = as_bytes(s);
    return {b.begin(), b.end()};
}

// --- codecs alone -------------------------------------------------------------------------

TEST(io_lines_codec, decodes_lines_across_chunks_and_tolerates_crlf) {
    rill::io::lines_codec c;
    frame_buffer buf;
    buf.append(as_bytes("ab"));
    EXPECT_EQ(c.decode(buf), std::nullopt);
    buf.append(as_bytes("c\r\nde\nf"));
    EXPECT_EQ(c.decode(buf), "abc");
    EXPECT_EQ(c.decode(buf), "de");
    EXPECT_EQ(c.decode(buf), std::nullopt);
    EXPECT_EQ(c.decode_eof(buf), "f");
    EXPECT_EQ(c.decode_eof(buf), std::nullopt);
}

TEST(io_lines_codec, an_over_long_line_throws_before_its_end_arrives) {
    rill::io::lines_codec c(8);
    frame_buffer buf;
    buf.append(as_bytes("12345678\r\n"));  // exactly max_length: accepted
    EXPECT_EQ(c.decode(buf), "12345678");
    buf.append(as_bytes("123456789"));  // no newline yet, but already too long
    EXPECT_EQ(c.decode(buf), std::nullopt);  // 9 bytes could still be 8 + "\r" waiting for "\n"
    buf.append(as_bytes("0"));
    try {
        (void)c.decode(buf);
        FAIL() << "no error";
    } catch (const rill::io::frame_error& e) {
        EXPECT_NE(std::string(e.what()).find("max_length"), std::string::npos) << e.what();
    }
}

// SIZE_MAX is "no limit", as Tokio's LinesCodec::new().
TEST(io_lines_codec, an_unbounded_max_length_accepts_a_line_split_across_reads) {
    rill::io::lines_codec c(std::numeric_limits<std::size_t>::max());
    frame_buffer buf;
    buf.append(as_bytes("hel"));
    EXPECT_EQ(c.decode(buf), std::nullopt);
    buf.append(as_bytes("lo\n"));
    EXPECT_EQ(c.decode(buf), "hello");
}

TEST(io_lines_codec, encode_appends_a_newline) {
    rill::io::lines_codec c;
    std::vector<std::byte> out;
    c.encode("hi", out);
    EXPECT_EQ(out, bytes_of("hi\n"));
}

TEST(io_length_delimited_codec, round_trip_with_a_big_endian_4_byte_header) {
    rill::io::length_delimited_codec c;
    std::vector<std::byte> out;
    c.encode(as_bytes("hello"), out);
    ASSERT_EQ(out.size(), 9u);
    EXPECT_EQ(out[0], std::byte{0});
    EXPECT_EQ(out[3], std::byte{5});
    frame_buffer buf;
    buf.append(std::span<const std::byte>(out).first(6));
    EXPECT_EQ(c.decode(buf), std::nullopt);
    buf.append(std::span<const std::byte>(out).subspan(6));
    EXPECT_EQ(c.decode(buf), bytes_of("hello"));
    EXPECT_TRUE(buf.empty());
}

TEST(io_length_delimited_codec, other_field_sizes_and_little_endian) {
    rill::io::length_delimited_codec c({.max_frame_length = 1000, .length_field_length = 2, .big_endian = false});
    std::vector<std::byte> out;
    c.encode(std::vector<std::byte>(300, std::byte{7}), out);
    EXPECT_EQ(out[0], std::byte{300 & 0xff});
    EXPECT_EQ(out[1], std::byte{300 >> 8});
    frame_buffer buf;
    buf.append(out);
    auto f = c.decode(buf);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->size(), 300u);
    EXPECT_THROW(rill::io::length_delimited_codec({.length_field_length = 9}), std::invalid_argument);
    rill::io::length_delimited_codec one({.length_field_length = 1});
    EXPECT_THROW(one.encode(std::vector<std::byte>(256), out), rill::io::frame_error);
}

TEST(io_length_delimited_codec, an_announced_length_over_the_maximum_throws_at_the_header) {
    rill::io::length_delimited_codec c;  // default max 8 MiB
    EXPECT_EQ(c.config().max_frame_length, 8u * 1024 * 1024);
    frame_buffer buf;
    const unsigned char hdr[4] = {0x00, 0x80, 0x00, 0x01};  // 8 MiB + 1
    buf.append(std::as_bytes(std::span(hdr)));
    try {
        (void)c.decode(buf);
        FAIL() << "no error";
    } catch (const rill::io::frame_error& e) {
        EXPECT_NE(std::string(e.what()).find("max_frame_length"), std::string::npos) << e.what();
    }
    std::vector<std::byte> out;
    EXPECT_THROW(c.encode(std::vector<std::byte>(8 * 1024 * 1024 + 1), out), rill::io::frame_error);
}

TEST(io_length_delimited_codec, eof_inside_a_frame_throws) {
    rill::io::length_delimited_codec c;
    frame_buffer buf;
    std::vector<std::byte> out;
    c.encode(as_bytes("abc"), out);
    buf.append(std::span<const std::byte>(out).first(5));
    EXPECT_THROW((void)c.decode_eof(buf), rill::io::frame_error);
}

// --- framed over duplex ---------------------------------------------------------------------

TEST(io_framed, a_next_destroyed_mid_frame_loses_nothing) {
    auto [a, b] = rill::io::duplex(1024);
    rill::io::framed f(std::move(b), rill::io::length_delimited_codec());
    std::vector<std::byte> wire;
    rill::io::length_delimited_codec().encode(as_bytes("payload"), wire);
    ASSERT_TRUE(make_mock(rill::io::write_all(a, std::span<const std::byte>(wire).first(6))).poll().is_ready());
    {
        auto m = make_mock(f.next());
        EXPECT_TRUE(m.poll().is_pending());
    }
    ASSERT_TRUE(make_mock(rill::io::write_all(a, std::span<const std::byte>(wire).subspan(6))).poll().is_ready());
    auto m = make_mock(f.next());
    auto got = m.poll();
    ASSERT_TRUE(got.is_ready());
    EXPECT_EQ(*got, bytes_of("payload"));
}

rill::task<void> line_server(duplex_stream s, std::size_t max, std::string* outcome) {
    rill::io::framed f(std::move(s), rill::io::lines_codec(max));
    try {
        while (std::optional<std::string> line = co_await f.next()) co_await f.send("echo: " + *line);
        *outcome = "eof";
    } catch (const rill::io::frame_error& e) {
        *outcome = std::string("frame_error: ") + e.what();
    }
}

rill::task<std::vector<std::string>> line_client(duplex_stream s, std::vector<std::string> lines) {
    rill::io::framed f(std::move(s), rill::io::lines_codec());
    std::vector<std::string> replies;
    for (const std::string& l : lines) {
        co_await f.send(l);
        std::optional<std::string> r = co_await f.next();
        if (!r) break;
        replies.push_back(*r);
    }
    co_await f.shutdown();
    co_return replies;
}

rill::task<std::string> bad_client(duplex_stream s) {
    co_await rill::io::write_all(s, as_bytes(std::string(100, 'z') + "\n"));
    std::vector<std::byte> buf(64);
    std::size_t n = 0;
    try {
        n = co_await s.read(buf);  // the server dropped the connection: EOF
    } catch (const std::system_error&) {
    }
    co_return n == 0 ? "closed" : "open";
}

rill::task<void> serve_pairs(std::vector<std::string>* outcomes, std::vector<std::vector<std::string>>* replies,
                             std::string* bad) {
    std::vector<rill::join_handle<void>> servers;
    std::vector<rill::join_handle<std::vector<std::string>>> clients;
    outcomes->resize(4);
    // pair 0 misbehaves; pairs 1..3 are well-behaved and run at the same time.
    auto [bc, bs] = rill::io::duplex(256);
    servers.push_back(rill::spawn(line_server(std::move(bs), 32, &(*outcomes)[0])));
    auto bad_h = rill::spawn(bad_client(std::move(bc)));
    for (int i = 1; i < 4; ++i) {
        auto [c, s] = rill::io::duplex(16);
        servers.push_back(rill::spawn(line_server(std::move(s), 32, &(*outcomes)[static_cast<std::size_t>(i)])));
        clients.push_back(rill::spawn(line_client(std::move(c), {"a" + std::to_string(i), "bb\r", "ccc"})));
    }
    *bad = co_await bad_h;
    for (auto& c : clients) replies->push_back(co_await c);
    for (auto& s : servers) co_await s;
}

class io_framed_rt : public rill_test::both_flavors {};

TEST_P(io_framed_rt, a_bad_frame_ends_its_connection_and_the_others_go_on) {
    auto rt = this->rt();
    std::vector<std::string> outcomes;
    std::vector<std::vector<std::string>> replies;
    std::string bad;
    rt.block_on(serve_pairs(&outcomes, &replies, &bad));
    EXPECT_EQ(bad, "closed");
    EXPECT_NE(outcomes[0].find("frame_error: "), std::string::npos) << outcomes[0];
    EXPECT_NE(outcomes[0].find("max_length"), std::string::npos) << outcomes[0];
    ASSERT_EQ(replies.size(), 3u);
    for (int i = 1; i < 4; ++i) {
        EXPECT_EQ(outcomes[static_cast<std::size_t>(i)], "eof");
        EXPECT_EQ(replies[static_cast<std::size_t>(i - 1)],
                  (std::vector<std::string>{"echo: a" + std::to_string(i), "echo: bb", "echo: ccc"}));
    }
}

rill::task<std::size_t> frames_roundtrip(std::size_t count) {
    auto [a, b] = rill::io::duplex(100);
    rill::io::framed_write out(std::move(a), rill::io::length_delimited_codec());
    rill::io::framed_read in(std::move(b), rill::io::length_delimited_codec());
    auto producer = [](rill::io::framed_write<duplex_stream, rill::io::length_delimited_codec>* o,
                       std::size_t n) -> rill::task<void> {
        for (std::size_t i = 0; i < n; ++i) co_await o->send(std::vector<std::byte>(i % 300, std::byte(i & 0xff)));
        co_await o->shutdown();
    };
    auto p = rill::spawn(producer(&out, count));
    std::size_t got = 0;
    while (auto f = co_await in.next()) {
        if (f->size() != got % 300) throw std::runtime_error("bad frame size");
        for (std::byte x : *f)
            if (x != std::byte(got & 0xff)) throw std::runtime_error("bad frame byte");
        ++got;
    }
    co_await p;
    co_return got;
}

TEST_P(io_framed_rt, length_delimited_frames_survive_a_small_pipe) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(frames_roundtrip(1000)), 1000u);
}

RILL_BOTH_FLAVORS(io_framed_rt);

}  // namespace
