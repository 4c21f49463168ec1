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
//
// What may be awaited by reference (an lvalue argument of select, join, join_all,
// timeout or futures_unordered::push, or by_ref):
//   - a rill::task (each await attaches the task's relay below the new branch; the
//     lost branch's awaiter detaches it);
//   - an awaitable whose co_await makes a fresh awaiter that registers anew each time:
//     a time::timer, a join_handle, a oneshot receiver.
// What may not, rejected at compile time: the one-shot awaiters that select, join,
// join_all, timeout, stream::next() and futures_unordered::next() / join_set::join_next()
// return, and the leaf operations that queue themselves in a primitive (a lock or
// semaphore acquire, mpsc send/reserve/recv/closed, broadcast recv, watch changed,
// barrier wait, cancellation_token::cancelled, socket readiness: awaited again after
// losing, they would be queued twice). Each is itself the awaiter, and what it attached below a branch that lost is
// withdrawn only by its own destructor; kept alive outside that branch it would point
// at the freed branch. Pass them as rvalues (`select(s.next(), ...)`,
// `select(std::move(j), ...)`): a stream's or set's next() is cancel-safe, so a fresh
// call per select loses nothing. To keep a join or select running across selects, put
// it in a task and pass the task by reference.
// Each one-shot awaiter is awaited once: a second direct `co_await j` of a join, select,
// join_all or timeout awaiter re-runs branches that are finished or destroyed
// (undefined behaviour); for streams and sets call next() again.
#pragma once

#include <memory>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/branch.hpp"

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
    static_assert(!rill::detail::one_shot_awaiter<A>,
                  "rill::future::by_ref: a one-shot awaiter (select/join/join_all/timeout, a next(), a lock, "
                  "semaphore or channel operation, a watch/barrier/cancellation wait, socket readiness) "
                  "cannot be awaited by reference: pass it as an rvalue "
                  "(std::move, or a fresh call such as s.next()), or wrap the operation in a task");
    return ref_awaitable<A>(a);
}

}  // namespace rill::future
