// Stream sources: iter, once, empty, repeat, from_recv.
//
//     auto s = rill::stream::iter(std::vector{1, 2, 3});
//     auto t = rill::stream::from_recv(std::move(rx));    // any rx.recv() -> optional<T>
//
// iter(range): the range's elements in order (the range is moved, or copied from an
// lvalue, into the stream, so nothing dangles). once(v): one item. empty<T>(): none.
// repeat(v): copies of v forever (end it with take). from_recv(rx): receives until
// rx.recv() yields std::nullopt (a closed channel); rx is moved into the stream.
// (interval_stream is in rill/stream/time.hpp.)
//
// Cancel safety: as next() (stream.hpp); from_recv keeps a message that arrived
// while a next() was abandoned only if rx.recv() is cancel-safe (mpsc's is).
// Resumes on: the consuming task's worker.
// Thread safety: used by one task.
#pragma once

#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/stream/stream.hpp"

namespace rill::stream {

namespace detail {

template <class R>
stream<std::ranges::range_value_t<R>> iter_impl(R range) {
    for (auto&& x : range) co_yield std::move(x);
}

template <class T>
stream<T> once_impl(T value) {
    co_yield std::move(value);
}

template <class T>
stream<T> empty_impl() {
    co_return;
}

template <class T>
stream<T> repeat_impl(T value) {
    for (;;) co_yield static_cast<const T&>(value);
}

template <class Rx>
using recv_item_t =
    typename std::remove_cvref_t<rill::detail::await_result_t<decltype(std::declval<Rx&>().recv())>>::value_type;

template <class Rx>
stream<recv_item_t<Rx>> from_recv_impl(Rx rx) {
    for (;;) {
        std::optional<recv_item_t<Rx>> v = co_await rx.recv();
        if (!v) break;
        co_yield std::move(*v);
    }
}

}  // namespace detail

/// The elements of `range`, in order.
template <std::ranges::input_range R>
auto iter(R&& range) {
    return detail::iter_impl<std::remove_cvref_t<R>>(std::forward<R>(range));
}

/// One item.
template <class T>
stream<std::decay_t<T>> once(T&& value) {
    return detail::once_impl<std::decay_t<T>>(std::forward<T>(value));
}

/// No items.
template <class T>
stream<T> empty() {
    return detail::empty_impl<T>();
}

/// Copies of `value`, forever.
template <class T>
stream<std::decay_t<T>> repeat(T&& value) {
    return detail::repeat_impl<std::decay_t<T>>(std::forward<T>(value));
}

/// The values received from `rx` until `rx.recv()` yields std::nullopt.
template <class Rx>
    requires requires(Rx& rx) { rx.recv(); }
auto from_recv(Rx rx) {
    return detail::from_recv_impl<Rx>(std::move(rx));
}

}  // namespace rill::stream
