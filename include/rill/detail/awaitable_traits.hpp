// What co_await does with a value: which awaiter it gets, and what the await yields.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

namespace rill::detail {

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
        return std::forward<A>(a).operator co_await();
    } else if constexpr (requires { operator co_await(std::forward<A>(a)); }) {
        return operator co_await(std::forward<A>(a));
    } else {
        return static_cast<A&&>(a);
    }
}

/// The type `co_await std::declval<A>()` yields.
template <class A>
using await_result_t = decltype(std::declval<decltype(get_awaiter(std::declval<A>()))&>().await_resume());

}  // namespace rill::detail

namespace rill {

/// True for types that can be `co_await`ed inside a rill task.
template <class A>
concept awaitable = requires { typename detail::await_result_t<A>; };

}  // namespace rill
