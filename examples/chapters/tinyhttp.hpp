// tinyhttp: a minimal HTTP/1.1 keep-alive server answering "Hello, World!".
//
// The per-connection loop is the whole server: wait until the socket is readable, take a
// read buffer from a pool (so 10,000 quiet connections hold no buffer), read, answer
// every complete request in the buffer (pipelining) with one write, and give the buffer
// back once the socket is drained with no partial request left. A request costs no heap
// allocation once warm: buffers are pooled, and rill's awaits use recycled frames. Each
// request head is read once, line by line, looking only at the request line and the
// Connection, Content-Length, Transfer-Encoding and Expect headers.
//
//     rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:8080");
//     co_await chapters::tinyhttp::serve(l);
//
// What it answers (every response carries Date and Content-Length; the target is ignored):
//   - GET: 200 "Hello, World!"; HEAD: the same headers, no body.
//   - any other method: 405 with "Allow: GET, HEAD" and an empty body.
//   - a Content-Length body (any method) is read and discarded, however long, so the next
//     pipelined request starts right after it; with "Expect: 100-continue" the client may
//     or may not send that body, so the connection is closed after the answer instead.
//   - Transfer-Encoding (chunked bodies are not decoded): 501, then close.
//   - a malformed request line, header line, or Content-Length (also a repeated one): 400,
//     then close. A head that does not fit the 4 KiB buffer: 431, then close.
// Connection rules (RFC 9112 9.3): header names and tokens are case-insensitive; a
// "close" token in any Connection header closes after the answer; an HTTP/1.0 request
// keeps the connection only with a "keep-alive" token (answered "Connection:
// keep-alive"). The server closes gracefully: it shuts down its write side, then reads
// and discards what the peer still sends (at most 64 KiB, for at most 100 ms) before the
// close, so that unread input does not make the kernel reset the connection and destroy
// the answer on its way. That needs the runtime's time driver (enable_all()).
// Lifetime: the pooled buffers belong to the connection task and go back to the pool
// however it ends (the peer closes, an error, or the task is destroyed by abort or by
// the runtime's shutdown at any suspension point).
#pragma once

#include <chrono>
#include <cstdint>
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
#include <rill/time/timeout.hpp>

namespace chapters::tinyhttp {

inline constexpr std::size_t in_cap = 4096;
inline constexpr std::size_t out_cap = 16384;
inline constexpr std::size_t linger_bytes = 64 * 1024;  // graceful close: discard at most this much
inline constexpr std::chrono::milliseconds linger_time{100};  // ... for at most this long

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

/// A pool buffer held by a connection, or none. Lives in the connection's frame, so the
/// buffer goes back to the pool (of the thread that destroys the frame) however the
/// connection ends, a destroyed suspended task included.
class pooled {
public:
    explicit pooled(bool out) noexcept : out_(out) {}
    pooled(const pooled&) = delete;
    pooled& operator=(const pooled&) = delete;
    ~pooled() { release(); }
    char* get() const noexcept { return p_; }
    char* acquire() {
        if (p_ == nullptr) p_ = take(out_);
        return p_;
    }
    void release() noexcept {
        if (p_ != nullptr) give(p_, out_);  // bad_alloc growing the pool's list: terminate
        p_ = nullptr;
    }

private:
    char* p_ = nullptr;
    bool out_;
};

// --- the responses ---------------------------------------------------------------------
inline constexpr std::string_view head =
    "HTTP/1.1 200 OK\r\nServer: rill\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: ";
inline constexpr std::size_t date_len = 29;  // "Thu, 26 Nov 2026 22:44:44 GMT"
inline constexpr std::string_view tail = "\r\n\r\nHello, World!";
/// The length of the usual answer: 200 to a keep-alive GET.
inline constexpr std::size_t response_len = head.size() + date_len + tail.size();

/// Status line and headers (each ending in CRLF) of the other answers; Connection and
/// Date follow.
inline constexpr std::string_view ok_head =
    "HTTP/1.1 200 OK\r\nServer: rill\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n";
inline constexpr std::string_view body = "Hello, World!";
inline constexpr std::string_view bad_request = "HTTP/1.1 400 Bad Request\r\nServer: rill\r\nContent-Length: 0\r\n";
inline constexpr std::string_view not_allowed =
    "HTTP/1.1 405 Method Not Allowed\r\nServer: rill\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n";
inline constexpr std::string_view too_large =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: rill\r\nContent-Length: 0\r\n";
inline constexpr std::string_view not_implemented =
    "HTTP/1.1 501 Not Implemented\r\nServer: rill\r\nContent-Length: 0\r\n";
inline constexpr std::string_view conn_close = "Connection: close\r\n";
inline constexpr std::string_view conn_keep = "Connection: keep-alive\r\n";
// head + Date + tail is the generic GET answer (ok_head, Date, body), pre-split around
// the Date value: the two must not drift apart.
static_assert(head.substr(0, ok_head.size()) == ok_head && head.substr(ok_head.size()) == "Date: ");
static_assert(tail.substr(0, 4) == "\r\n\r\n" && tail.substr(4) == body);
/// The longest answer any request can add to the output buffer.
inline constexpr std::size_t max_response_len =
    response_len + conn_keep.size() + too_large.size();  // a bound, not exact

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

/// The usual answer: 200 to a keep-alive GET.
inline char* put_response(char* p, const char* date) {
    std::memcpy(p, head.data(), head.size());
    p += head.size();
    std::memcpy(p, date, date_len);
    p += date_len;
    std::memcpy(p, tail.data(), tail.size());
    return p + tail.size();
}

inline char* put(char* p, std::string_view s) {
    if (s.empty()) return p;  // an empty view may have a null data(): no memcpy from null
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

/// Any answer: status and headers, an optional Connection header, Date, an optional body.
inline char* put_response(char* p, std::string_view status, std::string_view conn, const char* date,
                          std::string_view body_text) {
    p = put(p, status);
    p = put(p, conn);
    p = put(p, "Date: ");
    std::memcpy(p, date, date_len);
    p = put(p + date_len, "\r\n\r\n");
    return put(p, body_text);
}

// --- reading a request head --------------------------------------------------------------

/// What serve_conn needs to know about one request head.
struct request {
    enum class kind : std::uint8_t { get, head, other_method, bad, chunked };
    std::size_t head_len = 0;  // bytes up to and including the empty line; 0: incomplete
    std::uint64_t content_length = 0;
    kind what = kind::get;
    bool http10 = false;
    bool close = false;       // a "close" token
    bool keep_alive = false;  // a "keep-alive" token
    bool expect = false;      // an Expect header
};

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

/// Case-insensitive comparison with a lower-case literal.
inline bool iequals(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (ascii_lower(s[i]) != lower[i]) return false;
    return true;
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// A Connection header's comma-separated tokens.
inline void read_connection(std::string_view v, request& r) {
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        const std::string_view token = trim(v.substr(0, comma));
        if (iequals(token, "close")) r.close = true;
        if (iequals(token, "keep-alive")) r.keep_alive = true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
}

/// 1*DIGIT, at most 18 of them (no overflow); false for anything else.
inline bool read_length(std::string_view v, std::uint64_t* out) {
    v = trim(v);
    if (v.empty() || v.size() > 18) return false;
    std::uint64_t n = 0;
    for (const char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    *out = n;
    return true;
}

/// "METHOD SP target SP HTTP/1.x".
inline void read_request_line(std::string_view line, request& r) {
    const std::size_t sp = line.find(' ');
    constexpr std::string_view v1 = "HTTP/1.";
    if (sp == 0 || sp == std::string_view::npos || line.size() < sp + 2 + v1.size() + 2 ||
        line[line.size() - v1.size() - 2] != ' ' || line.substr(line.size() - v1.size() - 1, v1.size()) != v1 ||
        line.back() < '0' || line.back() > '9') {
        r.what = request::kind::bad;
        return;
    }
    r.http10 = line.back() == '0';
    const std::string_view method = line.substr(0, sp);
    r.what = method == "GET" ? request::kind::get : method == "HEAD" ? request::kind::head : request::kind::other_method;
}

/// Reads the request head at the start of [p, end), one pass, line by line (CRLF or bare
/// LF). head_len is 0 while the empty line that ends the head has not arrived.
inline request read_request(const char* p, const char* end) {
    request r;
    const char* const start = p;
    bool first = true, have_length = false;
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (nl == nullptr) break;
        std::string_view line(p, static_cast<std::size_t>(nl - p));
        p = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (first) {
            read_request_line(line, r);
            first = false;
            continue;
        }
        if (line.empty()) {
            r.head_len = static_cast<std::size_t>(p - start);
            return r;
        }
        // field-name ":" OWS value OWS; no space before the colon, no folded lines.
        const std::size_t colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos || line[colon - 1] == ' ' || line[colon - 1] == '\t' ||
            line[0] == ' ' || line[0] == '\t') {
            r.what = request::kind::bad;
            continue;
        }
        const std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
        switch (name.size()) {
        case 6:
            if (iequals(name, "expect")) r.expect = true;
            break;
        case 10:
            if (iequals(name, "connection")) read_connection(value, r);
            break;
        case 14:
            if (iequals(name, "content-length") && (have_length || !read_length(value, &r.content_length)) &&
                r.what != request::kind::chunked)
                r.what = request::kind::bad;
            have_length = true;
            break;
        case 17:
            if (iequals(name, "transfer-encoding")) r.what = request::kind::chunked;
            break;
        default:
            break;
        }
    }
    return r;  // incomplete
}

// --- the connection --------------------------------------------------------------------

/// Writes what try_write could not: the slow path of a response write.
inline rill::task<void> send_rest(rill::net::tcp_stream& s, const char* p, std::size_t n, std::size_t done) {
    co_await s.write_all(std::as_bytes(std::span(p + done, n - done)));
}

/// One send when the socket takes it all (no frame, no wait); else the slow path.
inline std::size_t try_send(rill::net::tcp_stream& s, const char* p, std::size_t n) {
    auto w = s.try_write(std::as_bytes(std::span(p, n)));
    return w ? *w : 0;
}

/// Reads and discards up to linger_bytes, until the peer's end of stream.
inline rill::task<void> discard_input(rill::net::tcp_stream& s, char* buf) {
    for (std::size_t left = linger_bytes; left > 0;) {
        const std::size_t n = co_await s.read(std::span(buf, left < in_cap ? left : in_cap));
        if (n == 0) break;
        left -= n;
    }
}

/// The server's side of a close with the peer possibly still sending: FIN first, then
/// discard input for a bounded time, so the close finds no unread bytes (which would
/// make the kernel send a reset that can destroy the answer before the peer reads it).
inline rill::task<void> close_gracefully(rill::net::tcp_stream& s, pooled& in) {
    s.shutdown_write();
    try {
        co_await rill::time::timeout(linger_time, discard_input(s, in.acquire()));
    } catch (const rill::time::elapsed&) {
        // The peer neither closed nor stopped sending: close anyway.
    }
}

/// Serves one connection until the peer closes it (or resets it), or an answer closes it.
inline rill::task<void> serve_conn(rill::net::tcp_stream s) {
    pooled in(false), out(true);
    std::size_t have = 0;
    std::uint64_t skip = 0;  // body bytes still to discard
    bool linger = false;
    try {
        for (;;) {
            if (in.get() == nullptr) {
                co_await s.readable();  // idle: hold no buffer
                in.acquire();
            }
            char* const buf = in.get();
            auto r = s.try_read(std::as_writable_bytes(std::span(buf + have, in_cap - have)));
            if (!r) {
                if (have == 0) {
                    in.release();
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
                if (skip > 0) {  // a body: discard it
                    const std::size_t k = have - pos < skip ? have - pos : static_cast<std::size_t>(skip);
                    pos += k;
                    skip -= k;
                    if (skip > 0) break;
                }
                while (pos < have && (buf[pos] == '\r' || buf[pos] == '\n')) ++pos;  // RFC 9112 2.2: empty lines
                const request q = read_request(buf + pos, buf + have);
                std::string_view status;
                std::string_view body_text;
                if (q.head_len == 0) {
                    if (pos != 0 || have < in_cap) break;  // the rest of the head is still to come
                    status = too_large;                    // the head does not fit the buffer
                    close = true;
                } else {
                    close = q.close || (q.http10 && !q.keep_alive) || (q.expect && q.content_length > 0);
                    switch (q.what) {
                    case request::kind::get:
                        status = ok_head;
                        body_text = body;
                        break;
                    case request::kind::head:
                        status = ok_head;
                        break;
                    case request::kind::other_method:
                        status = not_allowed;
                        break;
                    case request::kind::bad:
                        status = bad_request;
                        close = true;
                        break;
                    case request::kind::chunked:
                        status = not_implemented;
                        close = true;
                        break;
                    }
                }
                char* const ob = out.acquire();
                if (o == nullptr) {
                    o = ob;
                    std::memcpy(date, http_date(), date_len);  // once per batch
                }
                if (static_cast<std::size_t>(o - ob) + max_response_len > out_cap) {
                    const auto len = static_cast<std::size_t>(o - ob);
                    const std::size_t sent = try_send(s, ob, len);
                    if (sent < len) co_await send_rest(s, ob, len, sent);
                    o = ob;
                }
                if (q.head_len != 0 && q.what == request::kind::get && !close && !q.http10) {
                    o = put_response(o, date);  // the usual answer
                } else {
                    const std::string_view conn = close ? conn_close : q.http10 ? conn_keep : std::string_view();
                    o = put_response(o, status, conn, date, body_text);
                }
                if (close) break;
                pos += q.head_len;
                skip = q.content_length;
            }
            if (o != nullptr && o != out.get()) {
                const auto len = static_cast<std::size_t>(o - out.get());
                const std::size_t sent = try_send(s, out.get(), len);
                if (sent < len) co_await send_rest(s, out.get(), len, sent);
            }
            out.release();
            if (close) {
                linger = true;
                break;
            }
            std::memmove(buf, buf + pos, have - pos);
            have -= pos;
        }
    } catch (const std::system_error&) {
        // A reset or broken pipe ends this connection only (linger is still false: it is
        // set just before the loop is left).
    }
    if (linger) {
        try {
            co_await close_gracefully(s, in);
        } catch (const std::system_error&) {
        }
    }
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
