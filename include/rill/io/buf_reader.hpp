// rill::io::buf_reader<R>: buffered reading, lines and delimiters (Tokio's BufReader).
//
//     rill::io::buf_reader reader(std::move(stream));     // owns the stream
//     std::string line;
//     while (co_await reader.read_line(line) > 0) { ...; line.clear(); }
//
//     auto lines = reader.lines();
//     while (std::optional<std::string> l = co_await lines.next_line()) use(*l);
//
// buf_reader wraps any async_read stream R (held by value; buf_reader<S&> refers to a
// stream that the caller keeps alive — class template argument deduction picks S& for
// an lvalue, S for an rvalue) and reads from it in chunks of capacity() bytes.
//   read(buf)               what is buffered, or one read of the stream (bypassing the
//                           buffer when it is empty and buf is at least as large)
//   fill_buf() / consume(n) the buffered bytes (reading when empty) / drop n of them
//   read_until(delim, out)  appends up to and including `delim` (or to EOF); returns the
//                           count, 0 at EOF
//   read_line(out)          read_until('\n') into a std::string (the '\n' included)
//   lines().next_line()     the next line without "\n" or "\r\n"; nullopt at EOF
// A line longer than the capacity grows the buffer; after the line is consumed it
// shrinks back. buf_reader satisfies async_read, and passes write/flush/shutdown
// through to R when R is writable (so a buffered socket stays usable for replies).
//
// Cancel safety: read, fill_buf, read_until, read_line and next_line are cancel-safe
// with respect to the reader: they take bytes out of the buffer only when they
// complete, so a line that was half received when the await was destroyed is still in
// the buffer, whole, for the next call. (Compare Tokio, where read_line may leave a
// partial line in the caller's string.) `out` is only appended to on completion.
// Resumes on: the awaiting task's worker.
// Thread safety: one task at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/io/traits.hpp"
#include "rill/task.hpp"

namespace rill::io {

template <class R>
class buf_reader;

/// The line iterator of a buf_reader: `co_await lines.next_line()`.
template <class R>
class buf_lines {
public:
    explicit buf_lines(buf_reader<R>& r) noexcept : r_(&r) {}
    /// The next line without its "\n" / "\r\n"; nullopt at EOF.
    task<std::optional<std::string>> next_line() { return r_->next_line_impl(); }

private:
    buf_reader<R>* r_;
};

template <class R>
class buf_reader {
    using stream_type = std::remove_reference_t<R>;
    static_assert(async_read<stream_type>, "rill::io::buf_reader: R must satisfy rill::io::async_read");

public:
    static constexpr std::size_t default_capacity = 8 * 1024;

    explicit buf_reader(R inner, std::size_t capacity = default_capacity)
        : inner_(std::forward<R>(inner)), capacity_(capacity == 0 ? 1 : capacity), buf_(capacity_) {}
    buf_reader(buf_reader&&) = default;

    /// Reads into `out`: buffered bytes first; 0 at EOF.
    task<std::size_t> read(std::span<std::byte> out) {
        if (pos_ == filled_ && out.size() >= capacity_) co_return co_await inner_.read(out);
        std::span<const std::byte> avail = co_await fill_buf();
        const std::size_t n = std::min(avail.size(), out.size());
        if (n > 0) std::memcpy(out.data(), avail.data(), n);
        consume(n);
        co_return n;
    }

    /// The buffered bytes, reading once from the stream if there are none (empty: EOF).
    task<std::span<const std::byte>> fill_buf() {
        if (pos_ == filled_) {
            pos_ = filled_ = 0;
            shrink();
            const std::size_t n = co_await inner_.read(std::span<std::byte>(buf_.data(), buf_.size()));
            filled_ = n;
        }
        co_return buffer();
    }

    /// Drops `n` buffered bytes (at most what is buffered).
    void consume(std::size_t n) noexcept { pos_ = std::min(pos_ + n, filled_); }

    /// The bytes buffered now (no I/O).
    std::span<const std::byte> buffer() const noexcept { return {buf_.data() + pos_, filled_ - pos_}; }
    /// The buffer's size: the capacity it was made with, or more while a line longer
    /// than that is buffered (it shrinks back once the line is consumed).
    std::size_t capacity() const noexcept { return buf_.size(); }

    /// Appends up to and including `delim` (or everything up to EOF) to `out`.
    task<std::size_t> read_until(std::byte delim, std::vector<std::byte>& out) {
        const std::size_t n = co_await fill_until(delim);
        out.insert(out.end(), buf_.data() + pos_, buf_.data() + pos_ + n);
        consume(n);
        co_return n;
    }

    /// Appends the next line, '\n' included (none at EOF without one), to `out`.
    task<std::size_t> read_line(std::string& out) {
        const std::size_t n = co_await fill_until(std::byte{'\n'});
        out.append(reinterpret_cast<const char*>(buf_.data() + pos_), n);
        consume(n);
        co_return n;
    }

    /// A line iterator over this reader (which must outlive it).
    buf_lines<R> lines() noexcept { return buf_lines<R>(*this); }

    stream_type& get_ref() noexcept { return inner_; }
    const stream_type& get_ref() const noexcept { return inner_; }

    // Pass-through of the write side, when R has one.
    auto write(std::span<const std::byte> b)
        requires async_write<stream_type>
    {
        return inner_.write(b);
    }
    auto flush()
        requires async_write<stream_type>
    {
        return inner_.flush();
    }
    auto shutdown()
        requires async_write<stream_type>
    {
        return inner_.shutdown();
    }

private:
    friend class buf_lines<R>;

    /// Reads until the buffer holds `delim` or the stream ended; consumes nothing.
    /// Returns the length of the prefix to take: through `delim`, or all at EOF.
    task<std::size_t> fill_until(std::byte delim) {
        std::size_t scanned = 0;  // bytes after pos_ known to hold no delim
        for (;;) {
            const std::byte* b = buf_.data() + pos_;
            const std::size_t avail = filled_ - pos_;
            const std::byte* hit = std::find(b + scanned, b + avail, delim);
            if (hit != b + avail) co_return static_cast<std::size_t>(hit - b) + 1;
            scanned = avail;
            if (pos_ > 0) {  // make room at the back
                std::memmove(buf_.data(), buf_.data() + pos_, avail);
                filled_ = avail;
                pos_ = 0;
            }
            // A long line grew the buffer and has been consumed: back to the capacity
            // (what is buffered fits), so one long line does not pin a large buffer.
            if (filled_ < capacity_) shrink();
            if (filled_ == buf_.size()) buf_.resize(buf_.size() * 2);
            const std::size_t n =
                co_await inner_.read(std::span<std::byte>(buf_.data() + filled_, buf_.size() - filled_));
            if (n == 0) co_return filled_ - pos_;
            filled_ += n;
        }
    }

    task<std::optional<std::string>> next_line_impl() {
        const std::size_t n = co_await fill_until(std::byte{'\n'});
        if (n == 0) co_return std::nullopt;
        std::string line(reinterpret_cast<const char*>(buf_.data() + pos_), n);
        consume(n);
        if (!line.empty() && line.back() == '\n') {
            line.pop_back();
            if (!line.empty() && line.back() == '\r') line.pop_back();
        }
        co_return line;
    }

    void shrink() {
        if (buf_.size() > capacity_) {
            buf_.resize(capacity_);
            buf_.shrink_to_fit();
        }
    }

    R inner_;
    std::size_t capacity_;
    std::vector<std::byte> buf_;
    std::size_t pos_ = 0;
    std::size_t filled_ = 0;
};

template <class S>
buf_reader(S&&) -> buf_reader<S>;
template <class S>
buf_reader(S&&, std::size_t) -> buf_reader<S>;

}  // namespace rill::io
