// tinyhttp: a minimal HTTP/1.1 keep-alive server answering "Hello, World!".
//
// The per-connection loop is the whole server: wait until the socket is readable, take a
// read buffer from a pool (so 10,000 quiet connections hold no buffer), read, answer
// every complete request in the buffer (pipelining) with one write, and give the buffer
// back once the socket is drained with no partial request left. A request costs no heap
// allocation once warm: buffers are pooled, and rill's awaits use recycled frames.
//
//     rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:8080");
//     co_await chapters::tinyhttp::serve(l);
//
// Requests are counted by their "\r\n\r\n" terminator (GET without a body, as wrk and
// curl send); "Connection: close" closes after the answer; a request that does not fit
// the 4 KiB buffer gets 431 and the connection is closed.
#pragma once

#include <cstdio>
#include <cstring>
#include <ctime>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include <rill/net/tcp_listener.hpp>
#include <rill/net/tcp_stream.hpp>
#include <rill/rill.hpp>

namespace chapters::tinyhttp {

inline constexpr std::size_t in_cap = 4096;
inline constexpr std::size_t out_cap = 16384;

// --- buffer pool (per thread; blocks may be returned on another thread) ---------------
// Reached only through these non-inlined functions: a coroutine must not cache a
// thread_local's address across a suspension (it may resume on another worker).
struct pool_lists {
    std::vector<char*> in, out;
    ~pool_lists() {
        for (char* p : in) delete[] p;
        for (char* p : out) delete[] p;
    }
};
[[gnu::noinline]] inline pool_lists& pools() {
    thread_local pool_lists p;
    return p;
}
[[gnu::noinline]] inline char* take(bool out) {
    auto& l = out ? pools().out : pools().in;
    if (l.empty()) return new char[out ? out_cap : in_cap];
    char* p = l.back();
    l.pop_back();
    return p;
}
[[gnu::noinline]] inline void give(char* p, bool out) {
    auto& l = out ? pools().out : pools().in;
    if (l.size() == l.capacity() && l.size() >= 1024) {  // keep the pool bounded, never grow per request
        delete[] p;
        return;
    }
    l.push_back(p);
}

// --- the response ----------------------------------------------------------------------
inline constexpr std::string_view head =
    "HTTP/1.1 200 OK\r\nServer: rill\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: ";
inline constexpr std::size_t date_len = 29;  // "Thu, 26 Nov 2026 22:44:44 GMT"
inline constexpr std::string_view tail = "\r\n\r\nHello, World!";
inline constexpr std::size_t response_len = head.size() + date_len + tail.size();

/// The current Date value, reformatted once per second per thread.
[[gnu::noinline]] inline const char* http_date() {
    struct cache {
        std::time_t at = 0;
        char text[date_len + 1] = {};
    };
    thread_local cache c;
    const std::time_t now = std::time(nullptr);
    if (now != c.at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(c.text, sizeof c.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        c.at = now;
    }
    return c.text;
}

inline char* put_response(char* p, const char* date) {
    std::memcpy(p, head.data(), head.size());
    p += head.size();
    std::memcpy(p, date, date_len);
    p += date_len;
    std::memcpy(p, tail.data(), tail.size());
    return p + tail.size();
}

/// Writes what try_write could not: the slow path of a response write.
inline rill::task<void> send_rest(rill::net::tcp_stream& s, const char* p, std::size_t n, std::size_t done) {
    co_await s.write_all(std::as_bytes(std::span(p + done, n - done)));
}

/// One send when the socket takes it all (no frame, no wait); else the slow path.
inline std::size_t try_send(rill::net::tcp_stream& s, const char* p, std::size_t n) {
    auto w = s.try_write(std::as_bytes(std::span(p, n)));
    return w ? *w : 0;
}

inline bool wants_close(std::string_view req) {
    return req.find("Connection: close") != std::string_view::npos ||
           req.find("connection: close") != std::string_view::npos;
}

/// Serves one connection until the peer closes it (or resets it).
inline rill::task<void> serve_conn(rill::net::tcp_stream s) {
    char* in = nullptr;
    char* out = nullptr;
    std::size_t have = 0;
    try {
        for (;;) {
            if (in == nullptr) {
                co_await s.readable();  // idle: hold no buffer
                in = take(false);
            }
            auto r = s.try_read(std::as_writable_bytes(std::span(in + have, in_cap - have)));
            if (!r) {
                if (have == 0) {
                    give(in, false);
                    in = nullptr;
                } else {
                    co_await s.readable();  // the rest of a partial request
                }
                continue;
            }
            if (*r == 0) break;  // the peer closed
            have += *r;
            // Answer every complete request in the buffer with one write.
            std::size_t pos = 0;
            bool close = false;
            char* o = nullptr;
            char date[date_len];  // copied: the thread-local cache may belong to another worker after a co_await
            for (;;) {
                const void* end = memmem(in + pos, have - pos, "\r\n\r\n", 4);
                if (end == nullptr) break;
                const std::size_t stop = static_cast<std::size_t>(static_cast<const char*>(end) - in) + 4;
                close = wants_close(std::string_view(in + pos, stop - pos));
                pos = stop;
                if (out == nullptr) out = take(true);
                if (o == nullptr) {
                    o = out;
                    std::memcpy(date, http_date(), date_len);  // once per batch
                }
                if (static_cast<std::size_t>(o - out) + response_len > out_cap) {
                    const auto len = static_cast<std::size_t>(o - out);
                    const std::size_t sent = try_send(s, out, len);
                    if (sent < len) co_await send_rest(s, out, len, sent);
                    o = out;
                }
                o = put_response(o, date);
                if (close) break;
            }
            if (o != nullptr && o != out) {
                const auto len = static_cast<std::size_t>(o - out);
                const std::size_t sent = try_send(s, out, len);
                if (sent < len) co_await send_rest(s, out, len, sent);
            }
            if (out != nullptr) {
                give(out, true);
                out = nullptr;
            }
            if (close) break;
            std::memmove(in, in + pos, have - pos);
            have -= pos;
            if (have == in_cap) {
                constexpr std::string_view too_big =
                    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                const std::size_t sent = try_send(s, too_big.data(), too_big.size());
                if (sent < too_big.size()) co_await send_rest(s, too_big.data(), too_big.size(), sent);
                break;
            }
        }
    } catch (const std::system_error&) {
        // A reset or broken pipe ends this connection only.
    }
    if (in != nullptr) give(in, false);
    if (out != nullptr) give(out, true);
}

/// Accepts forever, one task per connection.
inline rill::task<void> serve(rill::net::tcp_listener& l) {
    for (;;) {
        rill::net::tcp_accepted a = co_await l.accept();
        a.stream.set_nodelay(true);
        rill::spawn(serve_conn(std::move(a.stream))).detach();
    }
}

// --- the chapter: a server and one client in one process -----------------------------

inline rill::task<int> demo() {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(serve(l));
    rill::net::tcp_stream c = co_await rill::net::tcp_stream::connect(l.local_addr());
    // Two pipelined requests in one write: two answers come back.
    co_await c.write_all("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got;
    char buf[1024];
    while (got.size() < 2 * response_len) {
        const std::size_t n = co_await c.read(std::span(buf));
        if (n == 0) break;
        got.append(buf, n);
    }
    std::size_t answers = 0;
    for (std::size_t at = 0; (at = got.find("Hello, World!", at)) != std::string::npos; at += 13) ++answers;
    std::printf("status line: %s\n", got.substr(0, got.find("\r\n")).c_str());
    std::printf("answers to 2 pipelined requests: %zu\n", answers);
    server.abort();
    co_return 0;
}

inline int run() { return rill::run(rill::builder::new_current_thread().enable_all(), demo()); }

}  // namespace chapters::tinyhttp
