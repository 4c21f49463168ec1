// Reading helpers over any rill::io::async_read stream (Tokio's AsyncReadExt).
//
//     std::array<std::byte, 64> hdr;
//     co_await rill::io::read_exact(stream, hdr);            // exactly 64 bytes, or throws
//     std::string body;
//     co_await rill::io::read_to_string(stream, body);       // everything up to EOF
//
// read_exact(r, buf) fills buf completely; if the stream ends first it throws
// std::system_error with rill::io::errc::unexpected_eof. read_to_end / read_to_string
// append everything up to EOF to `out` and return the number of bytes appended.
// The stream and `out` are taken by reference: they must outlive the await (await the
// call in the same full-expression, or keep both alive).
//
// Cancel safety: read_exact is not cancel-safe: bytes already read into `buf` are
// consumed from the stream. read_to_end / read_to_string are cancel-safe in the sense
// that nothing is lost: every byte taken from the stream is already appended to `out`.
// Resumes on: the awaiting task's worker.
// Thread safety: one task uses a stream's read side at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rill/io/error.hpp"
#include "rill/io/traits.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// Size of the scratch buffer of read_to_end, read_to_string and copy.
inline constexpr std::size_t default_chunk = 8 * 1024;

/// Reads exactly buf.size() bytes; throws errc::unexpected_eof if the stream ends first.
template <async_read R>
task<std::size_t> read_exact(R& r, std::span<std::byte> buf) {
    std::size_t got = 0;
    while (got < buf.size()) {
        const std::size_t n = co_await r.read(buf.subspan(got));
        if (n == 0) throw_io_error(errc::unexpected_eof, "rill::io::read_exact");
        got += n;
    }
    co_return got;
}

/// Appends everything up to EOF to `out`; returns the number of bytes appended.
template <async_read R>
task<std::size_t> read_to_end(R& r, std::vector<std::byte>& out) {
    std::vector<std::byte> chunk(default_chunk);
    std::size_t total = 0;
    for (;;) {
        const std::size_t n = co_await r.read(std::span<std::byte>(chunk));
        if (n == 0) co_return total;
        out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
        total += n;
        if (n == chunk.size() && chunk.size() < 1024 * 1024) chunk.resize(chunk.size() * 2);
    }
}

/// Appends everything up to EOF to `out` (bytes as chars, no validation).
template <async_read R>
task<std::size_t> read_to_string(R& r, std::string& out) {
    std::vector<std::byte> chunk(default_chunk);
    std::size_t total = 0;
    for (;;) {
        const std::size_t n = co_await r.read(std::span<std::byte>(chunk));
        if (n == 0) co_return total;
        out.append(reinterpret_cast<const char*>(chunk.data()), n);
        total += n;
        if (n == chunk.size() && chunk.size() < 1024 * 1024) chunk.resize(chunk.size() * 2);
    }
}

}  // namespace rill::io
