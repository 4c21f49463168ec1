// rill::io::framed: a byte stream as a sequence of frames, through a codec (Tokio's
// Framed, FramedRead, FramedWrite).
//
//     rill::io::framed f(std::move(stream), rill::io::lines_codec(1024));
//     while (std::optional<std::string> line = co_await f.next())
//         co_await f.send("echo: " + *line);
//
// framed_read<R, Codec>   next(): the next frame, nullopt at a clean EOF
// framed_write<W, Codec>  send(item): encode and write out; feed(item): encode only;
//                         flush(); shutdown() (flushes first)
// framed<S, Codec>        both, over one stream
// The stream is held by value (an lvalue reference type refers to a caller's stream;
// CTAD picks it for an lvalue argument).
//
// A codec is a type with `item_type`, `std::optional<item_type> decode(frame_buffer&)`
// (consume a frame's bytes and return it, or nullopt for "need more"), optionally
// `decode_eof(frame_buffer&)` (the default: decode, and throw frame_error if bytes of
// an incomplete frame remain), and `void encode(const Item&, std::vector<std::byte>&)`
// appending the encoded frame. rill provides lines_codec and length_delimited_codec.
//
// Errors: a codec's frame_error (over-long or malformed frame) propagates from next();
// the framed reader is finished after it (next() yields nullopt from then on), so the
// connection ends while the runtime goes on with every other one. Stream errors
// (std::system_error) propagate the same way.
//
// Cancel safety: next() is cancel-safe: bytes read are kept in the framed object's
// buffer, so a frame half received when the await was destroyed is completed by the
// next call. send() encodes the item into the write buffer when it is called (not when
// awaited); if the await is destroyed mid-write the rest of the frame stays buffered
// and goes out with the next send/flush, so frames are never torn on the wire.
// Resumes on: the awaiting task's worker.
// Thread safety: one task at a time (or, for framed, one reader and one writer task
// when the stream allows it, as for split).
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/io/error.hpp"
#include "rill/io/frame_buffer.hpp"
#include "rill/io/traits.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// A codec that turns bytes into items.
template <class C>
concept decoder = requires(C& c, frame_buffer& b) {
    typename C::item_type;
    { c.decode(b) } -> std::same_as<std::optional<typename C::item_type>>;
};

/// A codec that turns `Item`s into bytes.
template <class C, class Item>
concept encoder = requires(C& c, const Item& item, std::vector<std::byte>& out) { c.encode(item, out); };

namespace detail {

/// Bytes asked of the stream per read by a framed reader.
inline constexpr std::size_t frame_read_chunk = 8 * 1024;

template <class C>
std::optional<typename C::item_type> decode_at_eof(C& c, frame_buffer& buf) {
    if constexpr (requires { c.decode_eof(buf); }) {
        return c.decode_eof(buf);
    } else {
        if (auto f = c.decode(buf)) return f;
        if (!buf.empty()) throw frame_error("rill::io::framed: stream ended inside a frame");
        return std::nullopt;
    }
}

struct read_state {
    frame_buffer buf;
    bool eof = false;
    bool failed = false;
};

template <class R, class C>
task<std::optional<typename C::item_type>> framed_next(R& r, C& codec, read_state& st) {
    if (st.failed) co_return std::nullopt;
    try {
        for (;;) {
            if (st.eof) co_return decode_at_eof(codec, st.buf);
            if (auto f = codec.decode(st.buf)) co_return f;
            std::span<std::byte> space = st.buf.prepare(frame_read_chunk);
            const std::size_t n = co_await r.read(space);
            if (n == 0) {
                st.eof = true;
            } else {
                st.buf.commit(n);
            }
        }
    } catch (...) {
        st.failed = true;
        throw;
    }
}

struct write_state {
    std::vector<std::byte> buf;
    std::size_t start = 0;  // first byte not yet written
};

template <class W>
task<void> framed_flush(W& w, write_state& st) {
    while (st.start < st.buf.size()) {
        const std::size_t n = co_await w.write(std::span<const std::byte>(st.buf).subspan(st.start));
        if (n == 0) throw_io_error(errc::write_zero, "rill::io::framed::flush");
        st.start += n;
    }
    st.buf.clear();
    st.start = 0;
    co_await w.flush();
}

template <class W>
task<void> framed_shutdown(W& w, write_state& st) {
    co_await framed_flush(w, st);
    co_await w.shutdown();
}

}  // namespace detail

/// Frames read from R through Codec.
template <class R, class Codec>
class framed_read {
public:
    using item_type = typename Codec::item_type;
    framed_read(R inner, Codec codec) : inner_(std::forward<R>(inner)), codec_(std::move(codec)) {}

    /// The next frame; nullopt at EOF (or after an error was thrown).
    task<std::optional<item_type>> next() { return detail::framed_next(inner_, codec_, st_); }
    /// Bytes received and not yet decoded.
    const frame_buffer& read_buffer() const noexcept { return st_.buf; }
    std::remove_reference_t<R>& get_ref() noexcept { return inner_; }
    Codec& codec() noexcept { return codec_; }

private:
    R inner_;
    Codec codec_;
    detail::read_state st_;
};

/// Frames written to W through Codec.
template <class W, class Codec>
class framed_write {
public:
    framed_write(W inner, Codec codec) : inner_(std::forward<W>(inner)), codec_(std::move(codec)) {}

    /// Encodes `item` now and writes every buffered frame out.
    template <class Item>
        requires encoder<Codec, Item>
    task<void> send(const Item& item) {
        codec_.encode(item, st_.buf);
        return detail::framed_flush(inner_, st_);
    }
    /// Encodes `item` into the write buffer only.
    template <class Item>
        requires encoder<Codec, Item>
    void feed(const Item& item) {
        codec_.encode(item, st_.buf);
    }
    task<void> flush() { return detail::framed_flush(inner_, st_); }
    task<void> shutdown() { return detail::framed_shutdown(inner_, st_); }
    std::remove_reference_t<W>& get_ref() noexcept { return inner_; }
    Codec& codec() noexcept { return codec_; }

private:
    W inner_;
    Codec codec_;
    detail::write_state st_;
};

/// Frames in both directions over one stream.
template <class S, class Codec>
class framed {
public:
    using item_type = typename Codec::item_type;
    framed(S inner, Codec codec) : inner_(std::forward<S>(inner)), codec_(std::move(codec)) {}

    task<std::optional<item_type>> next() { return detail::framed_next(inner_, codec_, rst_); }
    template <class Item>
        requires encoder<Codec, Item>
    task<void> send(const Item& item) {
        codec_.encode(item, wst_.buf);
        return detail::framed_flush(inner_, wst_);
    }
    template <class Item>
        requires encoder<Codec, Item>
    void feed(const Item& item) {
        codec_.encode(item, wst_.buf);
    }
    task<void> flush() { return detail::framed_flush(inner_, wst_); }
    task<void> shutdown() { return detail::framed_shutdown(inner_, wst_); }
    std::remove_reference_t<S>& get_ref() noexcept { return inner_; }
    Codec& codec() noexcept { return codec_; }

private:
    S inner_;
    Codec codec_;
    detail::read_state rst_;
    detail::write_state wst_;
};

template <class S, class C>
framed_read(S&&, C) -> framed_read<S, C>;
template <class S, class C>
framed_write(S&&, C) -> framed_write<S, C>;
template <class S, class C>
framed(S&&, C) -> framed<S, C>;

}  // namespace rill::io
