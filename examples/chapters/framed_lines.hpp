// Chapter: a line protocol with rill::io::framed and lines_codec.
//
// framed(stream, codec) turns a byte stream into a stream of frames: `co_await
// f.next()` yields the next line (std::nullopt at EOF), `co_await f.send(line)` writes
// one. The codec enforces a maximum line length: a peer that sends an endless line gets
// a rill::io::frame_error on its own connection, which ends; every other connection
// carries on. Here the "network" is rill::io::duplex — in-memory connected streams that
// behave like sockets — so the chapter runs anywhere; with a tcp_stream the code is the
// same.
#pragma once

#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <rill/io/duplex.hpp>
#include <rill/io/framed.hpp>
#include <rill/io/lines_codec.hpp>
#include <rill/io/write.hpp>
#include <rill/rill.hpp>

namespace chapters::framed_lines {

// The server side of one connection: answers each line in upper case.
inline rill::task<std::string> serve(rill::io::duplex_stream conn) {
    rill::io::framed lines(std::move(conn), rill::io::lines_codec(64));
    int served = 0;
    try {
        while (std::optional<std::string> line = co_await lines.next()) {
            std::string reply = *line;
            for (char& c : reply) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            co_await lines.send(reply);
            ++served;
        }
    } catch (const rill::io::frame_error& e) {
        co_return "closed after " + std::to_string(served) + " lines: " + e.what();
    }
    co_return "done after " + std::to_string(served) + " lines";
}

// For printing: a "\r" made visible.
inline std::string shown(std::string s) {
    for (std::size_t i = s.find('\r'); i != std::string::npos; i = s.find('\r', i + 2)) s.replace(i, 1, "\\r");
    return s;
}

// A well-behaved client: sends its lines ("\r\n" endings are fine) and prints replies.
inline rill::task<void> client(rill::io::duplex_stream conn, std::string name, std::vector<std::string> lines) {
    rill::io::framed f(std::move(conn), rill::io::lines_codec());
    for (const std::string& l : lines) {
        co_await f.send(l);
        std::optional<std::string> reply = co_await f.next();
        std::printf("%s: sent \"%s\", got \"%s\"\n", name.c_str(), shown(l).c_str(),
                    reply ? shown(*reply).c_str() : "<eof>");
    }
    co_await f.shutdown();
}

// A misbehaving client: one line of 1000 bytes, far over the server's 64.
inline rill::task<void> flooder(rill::io::duplex_stream conn) {
    co_await rill::io::write_all(conn, rill::io::as_bytes(std::string(1000, 'x') + "\n"));
    std::vector<std::byte> buf(16);
    const std::size_t n = co_await conn.read(buf);
    std::printf("flooder: connection %s\n", n == 0 ? "closed by the server" : "still open");
}

inline rill::task<void> async_main() {
    auto [c1, s1] = rill::io::duplex(4096);
    auto [c2, s2] = rill::io::duplex(4096);
    auto srv1 = rill::spawn(serve(std::move(s1)));
    auto srv2 = rill::spawn(serve(std::move(s2)));

    co_await flooder(std::move(c2));
    std::printf("server 2: %s\n", (co_await srv2).c_str());

    // (Arguments built first: g++ 12 mishandles a braced list or a string literal
    // converted in the same full-expression as co_await.)
    std::vector<std::string> lines{"hello", "framed lines\r", "bye"};
    std::string name = "client 1";
    co_await client(std::move(c1), std::move(name), std::move(lines));
    std::printf("server 1: %s\n", (co_await srv1).c_str());
}

inline int run() { return rill::run(rill::builder::new_multi_thread().worker_threads(2).enable_all(), async_main()); }

}  // namespace chapters::framed_lines
