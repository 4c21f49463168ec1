// tinyhttp's answers to what a demanding client sends: bodies (Content-Length skipped,
// Transfer-Encoding refused), HEAD, other methods, the Connection rules of HTTP/1.0 and
// 1.1, a graceful close (the answer arrives, then end of stream, not a reset), and the
// pooled buffers coming back when the runtime is dropped mid-request. Each case talks
// to a server in the same runtime through a raw tcp_stream.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "../../examples/chapters/tinyhttp.hpp"

namespace {

namespace th = chapters::tinyhttp;
using namespace std::chrono_literals;

struct reply {
    std::string bytes;
    bool eof = false;    // the server closed (cleanly) within the wait
    bool reset = false;  // the read failed (ECONNRESET)
};

rill::task<void> read_to_eof(rill::net::tcp_stream& c, std::string* got) {
    char buf[4096];
    for (;;) {
        const std::size_t n = co_await c.read(std::span(buf));
        if (n == 0) co_return;
        got->append(buf, n);
    }
}

rill::task<void> exchange(std::string req, std::chrono::milliseconds wait, reply* r) {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(th::serve(l));
    rill::net::tcp_stream c = co_await rill::net::tcp_stream::connect(l.local_addr());
    co_await c.write_all(req);
    try {
        co_await rill::time::timeout(wait, read_to_eof(c, &r->bytes));
        r->eof = true;
    } catch (const rill::time::elapsed&) {
    } catch (const std::system_error&) {
        r->reset = true;
    }
    server.abort();
}

/// Sends req on a fresh connection; what came back within `wait`, and whether the server
/// closed. Keep-alive answers use a short wait (the server never closes those).
reply ask(std::string req, std::chrono::milliseconds wait = 500ms) {
    reply r;
    rill::run(rill::builder::new_current_thread().enable_all(), exchange(std::move(req), wait, &r));
    return r;
}

std::size_t count(const std::string& s, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += what.size()) ++n;
    return n;
}

constexpr auto keep_wait = 150ms;
const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(net_tinyhttp, chunked_post_gets_one_501_then_close) {
    const reply r = ask("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(count(r.bytes, "HTTP/1.1 "), 1u) << r.bytes;
    EXPECT_EQ(r.bytes.rfind("HTTP/1.1 501 Not Implemented\r\n", 0), 0u) << r.bytes;
    EXPECT_NE(r.bytes.find("Connection: close\r\n"), std::string::npos) << r.bytes;
    EXPECT_TRUE(r.eof && !r.reset);
}

TEST(net_tinyhttp, content_length_body_is_skipped_then_next_request_answered) {
    // The body holds "\r\n\r\n" and the start of something request-like: it is not a request.
    const reply r = ask("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab\r\n\r\nGET " + get, keep_wait);
    EXPECT_EQ(count(r.bytes, "HTTP/1.1 "), 2u) << r.bytes;
    EXPECT_EQ(r.bytes.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << r.bytes;
    EXPECT_NE(r.bytes.find("Allow: GET, HEAD\r\n"), std::string::npos) << r.bytes;
    EXPECT_EQ(count(r.bytes, "HTTP/1.1 200 OK\r\n"), 1u) << r.bytes;
    EXPECT_FALSE(r.eof);
}

TEST(net_tinyhttp, body_larger_than_the_buffer_is_skipped) {
    std::string big(20000, 'x');
    for (std::size_t i = 0; i + 40 < big.size(); i += 100) big.replace(i, 31, "\r\n\r\nGET / HTTP/1.1\r\nHost: y\r\n\r\n");
    const reply r = ask("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" +
                            big + get,
                        keep_wait);
    EXPECT_EQ(count(r.bytes, "HTTP/1.1 "), 2u) << r.bytes.substr(0, 400);
    EXPECT_EQ(count(r.bytes, "Hello, World!"), 2u);
    EXPECT_FALSE(r.eof);
}

TEST(net_tinyhttp, malformed_or_repeated_content_length_gets_400_then_close) {
    for (const char* cl : {"Content-Length: 1x\r\n", "Content-Length: -1\r\n", "Content-Length:\r\n",
                           "Content-Length: 99999999999999999999\r\n", "Content-Length: 3\r\nContent-Length: 3\r\n",
                           "Content-Length : 3\r\n"}) {
        const reply r = ask(std::string("POST / HTTP/1.1\r\nHost: x\r\n") + cl + "\r\nabc");
        EXPECT_EQ(r.bytes.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << cl << r.bytes;
        EXPECT_EQ(count(r.bytes, "HTTP/1.1 "), 1u) << cl << r.bytes;
        EXPECT_TRUE(r.eof && !r.reset) << cl;
    }
}

TEST(net_tinyhttp, head_gets_headers_only) {
    const reply r = ask("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get, keep_wait);
    EXPECT_EQ(r.bytes.size(), 2 * th::response_len - 13) << r.bytes;
    EXPECT_EQ(count(r.bytes, "Hello, World!"), 1u) << r.bytes;
    EXPECT_EQ(count(r.bytes, "Content-Length: 13\r\n"), 2u) << r.bytes;
    EXPECT_FALSE(r.eof);
}

TEST(net_tinyhttp, http10_closes_unless_keep_alive) {
    const auto t0 = std::chrono::steady_clock::now();
    const reply r = ask("GET / HTTP/1.0\r\n\r\n");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    EXPECT_EQ(r.bytes.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.bytes;
    EXPECT_EQ(count(r.bytes, "Hello, World!"), 1u) << r.bytes;
    EXPECT_TRUE(r.eof && !r.reset);

    const reply k = ask("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(count(k.bytes, "Hello, World!"), 2u) << k.bytes;
    EXPECT_EQ(count(k.bytes, "Connection: keep-alive\r\n"), 1u) << k.bytes;
    EXPECT_EQ(count(k.bytes, "Connection: close\r\n"), 1u) << k.bytes;
    EXPECT_TRUE(k.eof && !k.reset);
}

TEST(net_tinyhttp, connection_close_is_case_insensitive_and_a_token_list) {
    for (const char* h : {"Connection: Close\r\n", "CONNECTION:close\r\n", "connection: keep-alive, close\r\n",
                          "Connection: upgrade\r\nConnection:\tCLOSE \r\n"}) {
        const reply r = ask(std::string("GET / HTTP/1.1\r\nHost: x\r\n") + h + "\r\n" + get);
        EXPECT_EQ(count(r.bytes, "Hello, World!"), 1u) << h << r.bytes;
        EXPECT_NE(r.bytes.find("Connection: close\r\n"), std::string::npos) << h << r.bytes;
        EXPECT_TRUE(r.eof && !r.reset) << h;
    }
}

TEST(net_tinyhttp, close_is_looked_for_in_the_connection_header_only) {
    const reply r = ask("GET /Connection:close HTTP/1.1\r\nHost: x\r\nX-Note: Connection: close\r\n\r\n" + get, keep_wait);
    EXPECT_EQ(count(r.bytes, "Hello, World!"), 2u) << r.bytes;
    EXPECT_FALSE(r.eof);
}

TEST(net_tinyhttp, pipelined_gets_all_answered) {
    std::string req;
    for (int i = 0; i < 40; ++i) req += get;  // more than one read buffer
    const reply r = ask(req, keep_wait);
    EXPECT_EQ(r.bytes.size(), 40 * th::response_len);
    EXPECT_EQ(count(r.bytes, "HTTP/1.1 200 OK\r\n"), 40u);
    EXPECT_FALSE(r.eof);
}

TEST(net_tinyhttp, bad_request_line_gets_400_then_close) {
    for (const char* line : {"GET /\r\n", "GET / HTTP/2.0\r\n", " / HTTP/1.1\r\n", "GET / FTP/1.1\r\n"}) {
        const reply r = ask(std::string(line) + "Host: x\r\n\r\n");
        EXPECT_EQ(r.bytes.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << line << r.bytes;
        EXPECT_TRUE(r.eof && !r.reset) << line;
    }
}

TEST(net_tinyhttp, close_with_unread_input_delivers_the_answer_then_eof_not_reset) {
    // More pipelined input than one read takes follows the closing request.
    std::string junk;
    while (junk.size() < 20000) junk += get;
    const reply r = ask("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + junk);
    EXPECT_EQ(count(r.bytes, "Hello, World!"), 1u) << r.bytes;
    EXPECT_TRUE(r.eof) << "reset: " << r.reset;
    EXPECT_FALSE(r.reset);
    // The same for the 431 answer to a head that does not fit the buffer.
    const reply big = ask("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(big.bytes.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << big.bytes;
    EXPECT_TRUE(big.eof) << "reset: " << big.reset;
    EXPECT_FALSE(big.reset);
}

rill::task<void> partial_request(rill::net::tcp_listener* l, rill::net::tcp_stream* c) {
    *l = rill::net::tcp_listener::bind("127.0.0.1:0");
    rill::spawn(th::serve(*l)).detach();
    *c = co_await rill::net::tcp_stream::connect(l->local_addr());
    co_await c->write_all(get);  // one full round: the pools now hold one buffer each
    std::string got;
    char buf[1024];
    while (got.size() < th::response_len) got.append(buf, co_await c->read(std::span(buf)));
    co_await c->write_all("GET / HTTP/1.1\r\nHo");  // the server holds its read buffer
    co_await rill::time::sleep(50ms);
}

TEST(net_tinyhttp, buffers_go_back_to_the_pool_when_the_runtime_is_dropped_mid_request) {
    th::pool_lists& pools = th::pools();  // this thread runs the current_thread runtime
    const std::size_t in0 = pools.in.size(), out0 = pools.out.size();
    std::size_t in_during = 0;
    {
        auto rt = rill::builder::new_current_thread().enable_all().build();
        rill::net::tcp_listener l;
        rill::net::tcp_stream c;
        rt.block_on(partial_request(&l, &c));
        in_during = pools.in.size();
    }  // the runtime goes: the connection task is destroyed while it waits for the rest
    const std::size_t in_pooled = in0 == 0 ? 1 : in0;  // a fresh pool gained the first buffer
    EXPECT_EQ(in_during, in_pooled - 1) << "the server should hold its read buffer mid-request";
    EXPECT_EQ(pools.in.size(), in_pooled);
    EXPECT_EQ(pools.out.size(), out0 == 0 ? 1 : out0);
}

}  // namespace
