// Concurrent stream combinators: merge, zip, buffered, buffer_unordered,
// for_each_concurrent.
//
//     auto both = std::move(a) | rill::stream::merge(std::move(b));    // as they come
//     auto pairs = std::move(a) | rill::stream::zip(std::move(b));     // std::pair
//     auto results = rill::stream::iter(urls)
//                  | rill::stream::map(fetch)                          // stream of tasks
//                  | rill::stream::buffer_unordered(100);              // <= 100 in flight
//     co_await (std::move(items) | rill::stream::for_each_concurrent(100, handle));
//
// merge(b): the items of both streams as each produces them (a select per item, random
//   order when both are ready), until both end.
// zip(b): pairs (a_i, b_i), pulling both concurrently; ends when either ends.
// buffer_unordered(n): the input yields awaitables; runs up to n of them at once (a
//   futures_unordered) and yields their results in completion order, pulling a new
//   input item whenever fewer than n are in flight. buffered(n): the same, results in
//   input order.
// for_each_concurrent(n, f): awaits f(x) for every item with at most n in flight;
//   returns when all are done; the first exception cancels the rest and propagates.
// These run inside the consuming task (DESIGN §4): "concurrent" means interleaved at
// suspension points, never in parallel; spawn inside f for parallelism.
//
// Cancel safety: as next(): an abandoned next() keeps the awaitables in flight.
// Resumes on: the consuming task's worker.
// Thread safety: used by one task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/future/futures_unordered.hpp"
#include "rill/future/select.hpp"
#include "rill/stream/stream.hpp"
#include "rill/task.hpp"

namespace rill::stream {

namespace detail {

template <class T>
stream<T> merge_impl(stream<T> a, stream<T> b) {
    bool a_done = false, b_done = false;
    while (!a_done || !b_done) {
        if (a_done || b_done) {
            stream<T>& rest = a_done ? b : a;
            std::optional<T> v = co_await rest.next();
            if (!v) break;
            co_yield std::move(*v);
            continue;
        }
        auto r = co_await rill::future::select(a.next(), b.next());
        std::optional<T>& v = r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
        if (!v) {
            (r.index() == 0 ? a_done : b_done) = true;
            continue;
        }
        co_yield std::move(*v);
    }
}

template <class A, class B>
stream<std::pair<A, B>> zip_impl(stream<A> a, stream<B> b) {
    for (;;) {
        std::optional<A> x;
        std::optional<B> y;
        auto r = co_await rill::future::select(a.next(), b.next());
        if (r.index() == 0) {
            x = std::move(std::get<0>(r));
            if (!x) break;
            y = co_await b.next();
        } else {
            y = std::move(std::get<1>(r));
            if (!y) break;
            x = co_await a.next();
        }
        if (!x || !y) break;
        co_yield std::pair<A, B>(std::move(*x), std::move(*y));
    }
}

template <class A>
using awaited_value_t = rill::future::value_t<rill::detail::await_result_t<A>>;

template <class A>
stream<awaited_value_t<A>> buffer_unordered_impl(stream<A> s, std::size_t n) {
    using R = rill::detail::await_result_t<A>;
    rill::future::futures_unordered<R> set;
    bool input_done = false;
    for (;;) {
        if (!input_done && set.size() < n) {
            if (set.empty()) {
                std::optional<A> a = co_await s.next();
                if (a) {
                    set.push(std::move(*a));
                } else {
                    input_done = true;
                }
                continue;
            }
            // Results first (biased), so completed work leaves before more starts.
            auto r = co_await rill::future::select_biased(set.next(), s.next());
            if (r.index() == 0) {
                co_yield std::move(*std::get<0>(r));
            } else if (std::get<1>(r)) {
                set.push(std::move(*std::get<1>(r)));
            } else {
                input_done = true;
            }
            continue;
        }
        if (set.empty()) break;
        std::optional<awaited_value_t<A>> v = co_await set.next();
        co_yield std::move(*v);
    }
}

template <class R, class A>
task<std::pair<std::uint64_t, rill::future::value_t<R>>> indexed(std::uint64_t i, A a) {
    if constexpr (std::is_void_v<R>) {
        co_await std::move(a);
        co_return std::pair<std::uint64_t, rill::future::unit>(i, rill::future::unit{});
    } else {
        R r = co_await std::move(a);
        co_return std::pair<std::uint64_t, R>(i, std::move(r));
    }
}

template <class A>
stream<awaited_value_t<A>> buffered_impl(stream<A> s, std::size_t n) {
    using R = rill::detail::await_result_t<A>;
    using V = awaited_value_t<A>;
    rill::future::futures_unordered<std::pair<std::uint64_t, V>> set;
    std::map<std::uint64_t, V> done;  // finished out of order, waiting for their turn
    std::uint64_t next_in = 0, next_out = 0;
    bool input_done = false;
    for (;;) {
        auto it = done.find(next_out);
        if (it != done.end()) {
            V v = std::move(it->second);
            done.erase(it);
            ++next_out;
            co_yield std::move(v);
            continue;
        }
        if (!input_done && set.size() + done.size() < n) {
            if (set.empty()) {
                std::optional<A> a = co_await s.next();
                if (a) {
                    set.push(indexed<R, A>(next_in++, std::move(*a)));
                } else {
                    input_done = true;
                }
                continue;
            }
            auto r = co_await rill::future::select_biased(set.next(), s.next());
            if (r.index() == 0) {
                auto& p = *std::get<0>(r);
                done.emplace(p.first, std::move(p.second));
            } else if (std::get<1>(r)) {
                set.push(indexed<R, A>(next_in++, std::move(*std::get<1>(r))));
            } else {
                input_done = true;
            }
            continue;
        }
        if (set.empty()) break;
        std::optional<std::pair<std::uint64_t, V>> p = co_await set.next();
        done.emplace(p->first, std::move(p->second));
    }
}

template <class T, class F>
task<void> for_each_concurrent_impl(stream<T> s, std::size_t n, F f) {
    using A = std::invoke_result_t<F&, T&&>;
    using R = rill::detail::await_result_t<A>;
    rill::future::futures_unordered<R> set;
    bool input_done = false;
    for (;;) {
        if (!input_done && set.size() < n) {
            if (set.empty()) {
                std::optional<T> v = co_await s.next();
                if (v) {
                    set.push(std::invoke(f, std::move(*v)));
                } else {
                    input_done = true;
                }
                continue;
            }
            auto r = co_await rill::future::select_biased(set.next(), s.next());
            if (r.index() == 1) {
                if (std::get<1>(r)) {
                    set.push(std::invoke(f, std::move(*std::get<1>(r))));
                } else {
                    input_done = true;
                }
            }
            continue;
        }
        if (set.empty()) break;
        (void)co_await set.next();
    }
}

template <class T>
struct merge_fn {
    stream<T> other;
};
template <class B>
struct zip_fn {
    stream<B> other;
};
struct buffer_unordered_fn {
    std::size_t n;
};
struct buffered_fn {
    std::size_t n;
};
template <class F>
struct for_each_concurrent_fn {
    std::size_t n;
    F f;
};

inline std::size_t check_limit(std::size_t n, const char* what) {
    if (n == 0) throw std::invalid_argument(std::string("rill::stream::") + what + ": n must be > 0");
    return n;
}

}  // namespace detail

template <class T>
detail::merge_fn<T> merge(stream<T> other) noexcept {
    return {std::move(other)};
}
template <class B>
detail::zip_fn<B> zip(stream<B> other) noexcept {
    return {std::move(other)};
}
/// Throws std::invalid_argument when n == 0.
inline detail::buffer_unordered_fn buffer_unordered(std::size_t n) {
    return {detail::check_limit(n, "buffer_unordered")};
}
/// Throws std::invalid_argument when n == 0.
inline detail::buffered_fn buffered(std::size_t n) { return {detail::check_limit(n, "buffered")}; }
/// Throws std::invalid_argument when n == 0.
template <class F>
detail::for_each_concurrent_fn<std::decay_t<F>> for_each_concurrent(std::size_t n, F&& f) {
    return {detail::check_limit(n, "for_each_concurrent"), std::forward<F>(f)};
}

template <class T>
auto operator|(stream<T> s, detail::merge_fn<T> a) {
    return detail::merge_impl<T>(std::move(s), std::move(a.other));
}
template <class A, class B>
auto operator|(stream<A> s, detail::zip_fn<B> a) {
    return detail::zip_impl<A, B>(std::move(s), std::move(a.other));
}
template <class A>
    requires rill::awaitable<A>
auto operator|(stream<A> s, detail::buffer_unordered_fn a) {
    return detail::buffer_unordered_impl<A>(std::move(s), a.n);
}
template <class A>
    requires rill::awaitable<A>
auto operator|(stream<A> s, detail::buffered_fn a) {
    return detail::buffered_impl<A>(std::move(s), a.n);
}
template <class T, class F>
task<void> operator|(stream<T> s, detail::for_each_concurrent_fn<F> a) {
    return detail::for_each_concurrent_impl<T, F>(std::move(s), a.n, std::move(a.f));
}

}  // namespace rill::stream
