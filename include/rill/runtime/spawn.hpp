// rill::spawn and rill::spawn_blocking: start work on the current runtime.
//
//     rill::join_handle<int> h = rill::spawn(compute(21));
//     int v = co_await h;
//
// spawn(task) hands a lazy task to the runtime of the calling thread (a worker, a
// blocking-pool thread, or a thread inside block_on) and returns at once; the task
// starts on some worker. spawn_blocking(f) runs the callable f on the blocking pool,
// for work that would block a worker (file I/O, CPU-heavy loops, blocking C APIs).
// Both throw std::logic_error when the calling thread has no runtime (use
// runtime::handle from other threads). Each task records the std::source_location it
// was spawned from and gets a process-unique id.
#pragma once

#include <concepts>
#include <source_location>
#include <type_traits>
#include <utility>

#include "rill/detail/block_on.hpp"
#include "rill/detail/cells.hpp"
#include "rill/detail/context.hpp"
#include "rill/runtime/join_handle.hpp"
#include "rill/task.hpp"

namespace rill {

namespace detail {

inline constexpr std::uint64_t new_task_state =
    state::notified | state::join_interest | 2 * state::ref_one;  // handle + queue
inline constexpr std::uint64_t new_blocking_state =
    state::notified | state::join_interest | 2 * state::ref_one;  // handle + queue

/// Spawns `t` on `s` (null: the calling thread's runtime); `extra_state` as spawn_coro's.
template <class T>
join_handle<T> spawn_on(scheduler_base* s, task<T> t, std::source_location loc, std::uint64_t extra_state = 0) {
    if (!t) throw std::invalid_argument("rill::spawn: empty task");
    auto root = t.release();
    header* h;
    try {
        h = spawn_coro(s, root, &root.promise().node_, &coro_vtable<T>::vtable, loc, extra_state);
    } catch (...) {
        root.destroy();
        throw;
    }
    return join_handle<T>(h);
}

template <class F>
join_handle<blocking_result_t<std::decay_t<F>>> spawn_blocking_on(scheduler_base* pool, F&& f,
                                                                  std::source_location loc) {
    using Fn = std::decay_t<F>;
    auto* cell = new blocking_cell<Fn>(Fn(std::forward<F>(f)), pool, new_blocking_state);
    cell->location_ = loc;
    submit_spawn(pool, cell);
    return join_handle<blocking_result_t<Fn>>(cell);
}

}  // namespace detail

/// Spawns `t` on the current runtime. Throws std::logic_error outside a runtime.
template <class T>
join_handle<T> spawn(task<T> t, std::source_location loc = std::source_location::current()) {
    return detail::spawn_on(nullptr, std::move(t), loc);
}

/// Runs `f()` on the current runtime's blocking pool.
template <class F>
    requires std::invocable<std::decay_t<F>&>
auto spawn_blocking(F&& f, std::source_location loc = std::source_location::current()) {
    return detail::spawn_blocking_on(detail::runtime_blocking(&detail::current_runtime_or_throw()),
                                     std::forward<F>(f), loc);
}

}  // namespace rill
