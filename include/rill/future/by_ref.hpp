// rill::future::by_ref: pass a long-lived awaitable to select/join by reference.
//
//     auto op = slow_operation();                  // a task, started by the first await
//     for (;;) {
//         auto r = co_await rill::future::select(rill::future::by_ref(op), rx.recv());
//         if (r.index() == 0) break;               // op finished
//         ...                                      // a message: op keeps its progress
//     }
//
// Passing an lvalue does the same (`select(op, rx.recv())`); by_ref only makes it
// explicit (Rust's `&mut fut`). The awaitable must outlive every await of it. A task
// awaited by reference from a branch that loses keeps its progress: it is not
// restarted, and what it waits on stays registered (see docs/design/composition.md).
#pragma once

#include <memory>

#include "rill/detail/awaitable_traits.hpp"

namespace rill::future {

template <class A>
class ref_awaitable {
public:
    explicit ref_awaitable(A& a) noexcept : a_(std::addressof(a)) {}
    decltype(auto) operator co_await() const { return rill::detail::get_awaiter(*a_); }

private:
    A* a_;
};

/// Awaits `a` by reference inside a combinator.
template <class A>
ref_awaitable<A> by_ref(A& a) noexcept {
    return ref_awaitable<A>(a);
}

}  // namespace rill::future
