// rill::future::unit: the value of a void branch in join, select and join_all results.
//
// A branch whose awaitable yields void contributes `unit` (std::monostate) to the
// tuple of join, the alternative of select_result and the vector of join_all, so every
// result has a value type. value_t<T> is T, or unit for void.
#pragma once

#include <type_traits>
#include <variant>

#include "rill/detail/branch.hpp"

namespace rill::future {

using unit = std::monostate;

template <class T>
using value_t = std::conditional_t<std::is_void_v<T>, unit, T>;

namespace detail {

/// Takes a finished branch's outcome as a value (unit for void); rethrows its exception.
template <class T>
value_t<T> take_value(rill::detail::branch<T>& b) {
    if constexpr (std::is_void_v<T>) {
        b.take();
        return unit{};
    } else {
        return b.take();
    }
}

/// The node of the awaiting coroutine `h`; throws when it is not a rill coroutine.
template <class P>
rill::detail::wake_node* awaiting_node(std::coroutine_handle<P> h) {
    rill::detail::wake_node* n = rill::detail::node_of(h);
    if (n == nullptr) rill::detail::throw_not_in_task();
    return n;
}

}  // namespace detail

}  // namespace rill::future
