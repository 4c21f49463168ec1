// Consuming a stream: fold, collect, for_each (each returns a task to await).
//
//     int sum = co_await (std::move(s) | rill::stream::fold(0, std::plus<>{}));
//     std::vector<int> v = co_await (std::move(s) | rill::stream::collect<std::vector<int>>());
//     co_await (std::move(s) | rill::stream::for_each([](int x) { print(x); }));
//
// fold(init, f): acc = f(acc, x) for every item, returns acc. collect<C>(): every item
// inserted at the end of a C (push_back, else insert at end()). for_each(f): calls f(x)
// for every item; when f returns an awaitable it is awaited before the next item.
// An exception from the stream or from f propagates out of the task.
//
// Cancel safety: destroying the task destroys the stream it consumed.
// Resumes on: the awaiting task's worker.
// Thread safety: used by one task.
#pragma once

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/stream/stream.hpp"
#include "rill/task.hpp"

namespace rill::stream {

namespace detail {

template <class T, class Acc, class F>
task<Acc> fold_impl(stream<T> s, Acc acc, F f) {
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        acc = std::invoke(f, std::move(acc), std::move(*v));
    }
    co_return acc;
}

template <class C, class T>
task<C> collect_impl(stream<T> s) {
    C out{};
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        if constexpr (requires { out.push_back(std::move(*v)); }) {
            out.push_back(std::move(*v));
        } else {
            out.insert(out.end(), std::move(*v));
        }
    }
    co_return out;
}

template <class T, class F>
task<void> for_each_impl(stream<T> s, F f) {
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        if constexpr (rill::awaitable<std::invoke_result_t<F&, T&&>>) {
            co_await std::invoke(f, std::move(*v));
        } else {
            std::invoke(f, std::move(*v));
        }
    }
}

template <class Acc, class F>
struct fold_fn {
    Acc init;
    F f;
};
template <class C>
struct collect_fn {};
template <class F>
struct for_each_fn {
    F f;
};

}  // namespace detail

template <class Acc, class F>
detail::fold_fn<std::decay_t<Acc>, std::decay_t<F>> fold(Acc&& init, F&& f) {
    return {std::forward<Acc>(init), std::forward<F>(f)};
}
template <class C>
detail::collect_fn<C> collect() noexcept {
    return {};
}
template <class F>
detail::for_each_fn<std::decay_t<F>> for_each(F&& f) {
    return {std::forward<F>(f)};
}

template <class T, class Acc, class F>
task<Acc> operator|(stream<T> s, detail::fold_fn<Acc, F> a) {
    return detail::fold_impl<T, Acc, F>(std::move(s), std::move(a.init), std::move(a.f));
}
template <class T, class C>
task<C> operator|(stream<T> s, detail::collect_fn<C>) {
    return detail::collect_impl<C, T>(std::move(s));
}
template <class T, class F>
task<void> operator|(stream<T> s, detail::for_each_fn<F> a) {
    return detail::for_each_impl<T, F>(std::move(s), std::move(a.f));
}

}  // namespace rill::stream
