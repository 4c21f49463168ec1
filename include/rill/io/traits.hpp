// rill::io::async_read and rill::io::async_write: what a byte stream is.
//
// A readable stream has
//     read(std::span<std::byte> buf)          -> awaitable yielding std::size_t
// where 0 means end of stream (or an empty `buf`), and an OS error throws
// std::system_error with the errno. A writable stream has
//     write(std::span<const std::byte> buf)   -> awaitable yielding std::size_t (may be partial)
//     flush()                                 -> awaitable yielding void
//     shutdown()                              -> awaitable yielding void (shuts the write side)
// "Awaitable" is anything `co_await` accepts: a rill::task<std::size_t>, a hand-written
// awaiter, a type with operator co_await. tcp_stream, unix_stream and their halves,
// rill::io::duplex streams, buf_reader, buf_writer and rill::fs::file satisfy these
// concepts, and so does any user type with the same members; every function of rill::io
// (read_exact, write_all, copy, buf_reader, framed...) takes any of them.
//
// Contract a stream implements (what the generic algorithms rely on):
//   - A read or write that is destroyed before it completed (cancelled) transferred no
//     bytes: nothing is lost or duplicated (cancel safety by destruction). rill's
//     sockets keep this on the default epoll path; with the opt-in io_uring path
//     (builder::enable_io_uring) a write abandoned after its send was submitted may still
//     send its bytes (docs/design/io_uring.md, "Known limits").
//   - A read returns as soon as at least one byte is available; a write as soon as at
//     least one byte was accepted.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include "rill/detail/awaitable_traits.hpp"

namespace rill::io {

namespace detail {

template <class A, class T>
concept awaitable_of = rill::awaitable<A> && std::convertible_to<rill::detail::await_result_t<A>, T>;

template <class A>
concept awaitable_void = rill::awaitable<A> && std::is_void_v<rill::detail::await_result_t<A>>;

}  // namespace detail

/// A stream that can be read: `co_await s.read(buf)` yields the bytes read (0: EOF).
template <class S>
concept async_read = requires(S& s, std::span<std::byte> buf) {
    { s.read(buf) } -> detail::awaitable_of<std::size_t>;
};

/// A stream that can be written: write (partial), flush, shutdown of the write side.
template <class S>
concept async_write = requires(S& s, std::span<const std::byte> buf) {
    { s.write(buf) } -> detail::awaitable_of<std::size_t>;
    { s.flush() } -> detail::awaitable_void;
    { s.shutdown() } -> detail::awaitable_void;
};

/// Both directions.
template <class S>
concept async_read_write = async_read<S> && async_write<S>;

/// An awaitable that is ready at once and yields nothing (flush/shutdown of streams
/// that have nothing to do).
struct ready_void {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};

/// Views of the bytes of a string or a trivially copyable object.
inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace rill::io
