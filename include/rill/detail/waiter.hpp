// Helpers for rill's own primitives: registering the current task's wake node.
//
// A primitive that must wait stores a `wake_node*` with a registration ref (a "counted
// node": one task ref, plus a node ref for a branch node): it is taken in await_suspend,
// and consumed either by waking it (wake_by_value) or by dropping it (drop_node) when
// the wait is withdrawn.
#pragma once

#include <coroutine>

#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::detail {

/// Records `h` as the point to resume and returns its node with one task ref taken.
/// Throws std::logic_error when `h` is not a rill coroutine.
template <class P>
wake_node* counted_node(std::coroutine_handle<P> h) {
    wake_node* n = node_of(h);
    if (n == nullptr) throw_not_in_task();
    n->resume_ = h;
    node_acquire(n);
    return n;
}

/// Releases a counted node without waking it.
inline void drop_node(wake_node* n) noexcept {
    if (n) node_release(n);
}

}  // namespace rill::detail
