// Writing helpers over any rill::io::async_write stream (Tokio's AsyncWriteExt).
//
//     co_await rill::io::write_all(stream, rill::io::as_bytes("hello\n"));
//
// write_all(w, buf) writes every byte of buf (looping over partial writes); a write that
// accepts 0 bytes of a non-empty buffer throws std::system_error(errc::write_zero).
// The stream and the bytes must outlive the await.
//
// Cancel safety: not cancel-safe: a prefix of buf may have been written when the await
// is destroyed (the stream itself loses nothing it accepted).
// Resumes on: the awaiting task's worker.
// Thread safety: one task uses a stream's write side at a time.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "rill/io/error.hpp"
#include "rill/io/traits.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// Writes all of `buf`.
template <async_write W>
task<void> write_all(W& w, std::span<const std::byte> buf) {
    while (!buf.empty()) {
        const std::size_t n = co_await w.write(buf);
        if (n == 0) throw_io_error(errc::write_zero, "rill::io::write_all");
        buf = buf.subspan(n);
    }
}

}  // namespace rill::io
