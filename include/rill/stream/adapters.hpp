// Stream adapters with pipe syntax: map, filter, filter_map, take, take_while, skip,
// skip_while, chain, then, chunks.
//
//     auto s = rill::stream::iter(std::views::iota(1, 11))
//            | rill::stream::filter([](int x) { return x % 2 == 0; })
//            | rill::stream::map([](int x) { return x * x; })
//            | rill::stream::take(3);                          // 4, 16, 36
//
// Each adapter consumes its input stream (pipe an rvalue) and returns a new stream
// whose body owns the input and the callable (both are parameters of the adapter's
// coroutine, stored in its frame: no capture can dangle). The callables are invoked
// on the consuming task's thread, one item at a time.
//   map(f): f(x).  filter(p): the x with p(x).  filter_map(f): *f(x) for each f(x)
//   that holds a value (f returns std::optional).  take(n): the first n (then the input
//   is not polled again).  take_while(p): until the first x with !p(x).  skip(n),
//   skip_while(p): the rest.  chain(s2): all of this, then all of s2.  then(f): the
//   result of co_await f(x) (an async map, one at a time).  chunks(n): vectors of n
//   items, the last one shorter.
//
// Cancel safety: as next() (stream.hpp): an adapter abandoned mid-item continues it.
// Resumes on: the consuming task's worker.
// Thread safety: used by one task.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/future/unit.hpp"
#include "rill/stream/stream.hpp"

namespace rill::stream {

namespace detail {

template <class T, class F>
using map_result_t = std::remove_cvref_t<std::invoke_result_t<F&, T&&>>;

template <class T, class F>
stream<map_result_t<T, F>> map_impl(stream<T> s, F f) {
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        co_yield std::invoke(f, std::move(*v));
    }
}

template <class T, class F>
stream<T> filter_impl(stream<T> s, F pred) {
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        if (std::invoke(pred, std::as_const(*v))) co_yield std::move(*v);
    }
}

template <class T, class F>
using filter_map_item_t = typename map_result_t<T, F>::value_type;

template <class T, class F>
stream<filter_map_item_t<T, F>> filter_map_impl(stream<T> s, F f) {
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        auto r = std::invoke(f, std::move(*v));
        if (r) co_yield std::move(*r);
    }
}

template <class T>
stream<T> take_impl(stream<T> s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        co_yield std::move(*v);
    }
}

template <class T, class F>
stream<T> take_while_impl(stream<T> s, F pred) {
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v || !std::invoke(pred, std::as_const(*v))) break;
        co_yield std::move(*v);
    }
}

template <class T>
stream<T> skip_impl(stream<T> s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::optional<T> v = co_await s.next();
        if (!v) co_return;
    }
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        co_yield std::move(*v);
    }
}

template <class T, class F>
stream<T> skip_while_impl(stream<T> s, F pred) {
    bool skipping = true;
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        if (skipping && std::invoke(pred, std::as_const(*v))) continue;
        skipping = false;
        co_yield std::move(*v);
    }
}

template <class T>
stream<T> chain_impl(stream<T> a, stream<T> b) {
    for (;;) {
        std::optional<T> v = co_await a.next();
        if (!v) break;
        co_yield std::move(*v);
    }
    for (;;) {
        std::optional<T> v = co_await b.next();
        if (!v) break;
        co_yield std::move(*v);
    }
}

template <class T, class F>
using then_result_t = rill::future::value_t<rill::detail::await_result_t<std::invoke_result_t<F&, T&&>>>;

template <class T, class F>
stream<then_result_t<T, F>> then_impl(stream<T> s, F f) {
    using R = rill::detail::await_result_t<std::invoke_result_t<F&, T&&>>;
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        if constexpr (std::is_void_v<R>) {
            co_await std::invoke(f, std::move(*v));
            co_yield rill::future::unit{};
        } else {
            R r = co_await std::invoke(f, std::move(*v));
            co_yield std::move(r);
        }
    }
}

template <class T>
stream<std::vector<T>> chunks_impl(stream<T> s, std::size_t n) {
    std::vector<T> chunk;
    chunk.reserve(n);
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        chunk.push_back(std::move(*v));
        if (chunk.size() == n) {
            co_yield std::exchange(chunk, std::vector<T>());
            chunk.reserve(n);
        }
    }
    if (!chunk.empty()) co_yield std::move(chunk);
}

template <class F>
struct map_fn {
    F f;
};
template <class F>
struct filter_fn {
    F f;
};
template <class F>
struct filter_map_fn {
    F f;
};
struct take_fn {
    std::size_t n;
};
template <class F>
struct take_while_fn {
    F f;
};
struct skip_fn {
    std::size_t n;
};
template <class F>
struct skip_while_fn {
    F f;
};
template <class T>
struct chain_fn {
    stream<T> other;
};
template <class F>
struct then_fn {
    F f;
};
struct chunks_fn {
    std::size_t n;
};

}  // namespace detail

template <class F>
detail::map_fn<std::decay_t<F>> map(F&& f) {
    return {std::forward<F>(f)};
}
template <class F>
detail::filter_fn<std::decay_t<F>> filter(F&& f) {
    return {std::forward<F>(f)};
}
template <class F>
detail::filter_map_fn<std::decay_t<F>> filter_map(F&& f) {
    return {std::forward<F>(f)};
}
inline detail::take_fn take(std::size_t n) noexcept { return {n}; }
template <class F>
detail::take_while_fn<std::decay_t<F>> take_while(F&& f) {
    return {std::forward<F>(f)};
}
inline detail::skip_fn skip(std::size_t n) noexcept { return {n}; }
template <class F>
detail::skip_while_fn<std::decay_t<F>> skip_while(F&& f) {
    return {std::forward<F>(f)};
}
template <class T>
detail::chain_fn<T> chain(stream<T> other) noexcept {
    return {std::move(other)};
}
template <class F>
detail::then_fn<std::decay_t<F>> then(F&& f) {
    return {std::forward<F>(f)};
}
/// Throws std::invalid_argument when n == 0.
inline detail::chunks_fn chunks(std::size_t n) {
    if (n == 0) throw std::invalid_argument("rill::stream::chunks: n must be > 0");
    return {n};
}

template <class T, class F>
    requires std::invocable<F&, T&&>
auto operator|(stream<T> s, detail::map_fn<F> a) {
    return detail::map_impl<T, F>(std::move(s), std::move(a.f));
}
template <class T, class F>
auto operator|(stream<T> s, detail::filter_fn<F> a) {
    return detail::filter_impl<T, F>(std::move(s), std::move(a.f));
}
template <class T, class F>
auto operator|(stream<T> s, detail::filter_map_fn<F> a) {
    return detail::filter_map_impl<T, F>(std::move(s), std::move(a.f));
}
template <class T>
auto operator|(stream<T> s, detail::take_fn a) {
    return detail::take_impl<T>(std::move(s), a.n);
}
template <class T, class F>
auto operator|(stream<T> s, detail::take_while_fn<F> a) {
    return detail::take_while_impl<T, F>(std::move(s), std::move(a.f));
}
template <class T>
auto operator|(stream<T> s, detail::skip_fn a) {
    return detail::skip_impl<T>(std::move(s), a.n);
}
template <class T, class F>
auto operator|(stream<T> s, detail::skip_while_fn<F> a) {
    return detail::skip_while_impl<T, F>(std::move(s), std::move(a.f));
}
template <class T>
auto operator|(stream<T> s, detail::chain_fn<T> a) {
    return detail::chain_impl<T>(std::move(s), std::move(a.other));
}
template <class T, class F>
auto operator|(stream<T> s, detail::then_fn<F> a) {
    return detail::then_impl<T, F>(std::move(s), std::move(a.f));
}
template <class T>
auto operator|(stream<T> s, detail::chunks_fn a) {
    return detail::chunks_impl<T>(std::move(s), a.n);
}

}  // namespace rill::stream
