// rill::io::buf_writer<W>: buffered writing (Tokio's BufWriter).
//
//     rill::io::buf_writer out(std::move(stream));
//     for (auto& rec : records) co_await rill::io::write_all(out, encode(rec));
//     co_await out.flush();            // or shutdown(): flushes first
//
// Small writes are copied into a buffer of capacity() bytes and go to W in one write
// when it is full, on flush() or on shutdown(); a write at least as large as the
// capacity goes straight to W (after what is buffered). W is held by value
// (buf_writer<S&> refers to a stream the caller keeps alive; CTAD picks S& for an
// lvalue). An empty write returns 0 at once (as Tokio's). buf_writer satisfies
// async_write, and passes read through to W when W is readable. Destroying a buf_writer
// with buffered bytes drops them: flush first.
//
// Cancel safety: write, flush and shutdown are cancel-safe with respect to the writer:
// bytes taken into the buffer stay there until W accepted them, so an interrupted
// flush resumes where it stopped on the next write/flush. A write destroyed before it
// completed took nothing from the caller's span.
// Resumes on: the awaiting task's worker.
// Thread safety: one task at a time.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/io/error.hpp"
#include "rill/io/traits.hpp"
#include "rill/task.hpp"

namespace rill::io {

template <class W>
class buf_writer {
    using stream_type = std::remove_reference_t<W>;
    static_assert(async_write<stream_type>, "rill::io::buf_writer: W must satisfy rill::io::async_write");

public:
    static constexpr std::size_t default_capacity = 8 * 1024;

    explicit buf_writer(W inner, std::size_t capacity = default_capacity)
        : inner_(std::forward<W>(inner)), buf_(capacity == 0 ? 1 : capacity) {}
    buf_writer(buf_writer&&) = default;

    /// Buffers `data` (or writes it through when it is at least capacity() bytes). An
    /// empty `data` returns 0 at once, without touching W.
    task<std::size_t> write(std::span<const std::byte> data) {
        if (data.empty()) co_return 0;
        if (end_ + data.size() > buf_.size()) co_await flush_buf();
        if (data.size() >= buf_.size()) co_return co_await inner_.write(data);
        std::memcpy(buf_.data() + end_, data.data(), data.size());
        end_ += data.size();
        co_return data.size();
    }
    /// Writes out the buffer, then flushes W.
    task<void> flush() {
        co_await flush_buf();
        co_await inner_.flush();
    }
    /// Writes out the buffer, then shuts W's write side down.
    task<void> shutdown() {
        co_await flush_buf();
        co_await inner_.shutdown();
    }

    /// Bytes buffered and not yet written to W.
    std::size_t buffered() const noexcept { return end_ - start_; }
    std::size_t capacity() const noexcept { return buf_.size(); }
    stream_type& get_ref() noexcept { return inner_; }

    auto read(std::span<std::byte> b)
        requires async_read<stream_type>
    {
        return inner_.read(b);
    }

private:
    task<void> flush_buf() {
        while (start_ < end_) {
            const std::size_t n = co_await inner_.write(std::span<const std::byte>(buf_.data() + start_, end_ - start_));
            if (n == 0) throw_io_error(errc::write_zero, "rill::io::buf_writer::flush");
            start_ += n;
        }
        start_ = end_ = 0;
    }

    W inner_;
    std::vector<std::byte> buf_;
    std::size_t start_ = 0;  // first byte not yet written to W
    std::size_t end_ = 0;    // end of the buffered bytes
};

template <class S>
buf_writer(S&&) -> buf_writer<S>;
template <class S>
buf_writer(S&&, std::size_t) -> buf_writer<S>;

}  // namespace rill::io
