// rill::spawn and rill::spawn_blocking: start work on the current runtime.
//
//     rill::join_handle<int> h = rill::spawn(compute(21));
//     int v = co_await h;
//
// spawn(task) hands a lazy task to the runtime of the calling thread (a worker, a
// blocking-pool thread, or a thread inside block_on) and returns at once; the task
// starts on some worker. spawn_blocking(f) runs the callable f on the blocking pool,
// for work that would block a worker (file I/O, CPU-heavy loops, blocking C APIs).
// spawn(rill::call(f, args...)) calls the coroutine function f itself, so the task's
// header and f's frame are one block (128 bytes for a small task, as a Tokio task):
// the form for the many tasks that wait. Both throw std::logic_error when the calling
// thread has no runtime (use runtime::handle from other threads). Each task records
// the std::source_location it was spawned from and gets an id (48 bits; not reused
// before 2^48 spawns).
#pragma once

#include <concepts>
#include <functional>
#include <source_location>
#include <tuple>
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
    const task_site* site = intern_site(pool, &blocking_cell<Fn>::vtable, loc);
    auto* cell = new blocking_cell<Fn>(Fn(std::forward<F>(f)), site, new_blocking_state);
    submit_spawn(pool, cell);
    return join_handle<blocking_result_t<Fn>>(cell);
}

template <class R>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

template <class T, class Call>
join_handle<T> spawn_call_on(scheduler_base* s, Call& call, std::source_location loc) {
    fused_call_fn invoke = [](void* c) -> fused_call_result {
        task<T> t = std::move(*static_cast<Call*>(c)).invoke();
        if (!t) throw std::invalid_argument("rill::spawn: the call returned an empty task");
        auto root = t.release();
        return {root, &root.promise().node_};
    };
    return join_handle<T>(spawn_fused(s, &call, invoke, &coro_vtable<T>::vtable, loc));
}

/// Whether a callable's parameters are known to include a reference: for a function
/// pointer, or a class with one non-template operator(). Unknown (a generic lambda): false.
template <class F>
struct params_have_ref : std::false_type {};
template <class R, class... P>
struct params_have_ref<R (*)(P...)> : std::bool_constant<(std::is_reference_v<P> || ...)> {};
template <class R, class... P>
struct params_have_ref<R (*)(P...) noexcept> : std::bool_constant<(std::is_reference_v<P> || ...)> {};
template <class R, class C, class... P>
struct params_have_ref<R (C::*)(P...) const> : std::bool_constant<(std::is_reference_v<P> || ...)> {};
template <class R, class C, class... P>
struct params_have_ref<R (C::*)(P...) const noexcept> : std::bool_constant<(std::is_reference_v<P> || ...)> {};
template <class R, class C, class... P>
struct params_have_ref<R (C::*)(P...)> : std::bool_constant<(std::is_reference_v<P> || ...)> {};
template <class R, class C, class... P>
struct params_have_ref<R (C::*)(P...) noexcept> : std::bool_constant<(std::is_reference_v<P> || ...)> {};
template <class F>
    requires std::is_class_v<F> && requires { &F::operator(); }
struct params_have_ref<F> : params_have_ref<decltype(&F::operator())> {};

/// What rill::call accepts: a function pointer or a stateless class (a captureless
/// lambda), whose parameters are not references. A coroutine that is a member function
/// (a lambda's or functor's operator()) keeps a reference to its object, which dies when
/// spawn returns; a reference parameter would refer to an argument that dies with it.
template <class F>
concept deferrable_callable = (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) ||
                              (std::is_class_v<F> && std::is_empty_v<F>);

}  // namespace detail

/// A call to make later: `rill::call(f, args...)` holds `f` and copies (or moves) of
/// `args` as std::bind would, and spawn invokes it. See spawn(call).
template <class F, class... Args>
class deferred_call {
public:
    template <class G, class... A>
    explicit deferred_call(G&& f, A&&... args) : f_(std::forward<G>(f)), args_(std::forward<A>(args)...) {}
    auto invoke() && { return std::apply(std::move(f_), std::move(args_)); }

private:
    F f_;
    std::tuple<Args...> args_;
};

/// `f` and its arguments, for spawn: `rill::spawn(rill::call(handle_conn, std::move(sock)))`.
/// The arguments are stored by value and passed to `f` as rvalues while spawn runs; the
/// coroutine's frame keeps what its parameters hold, so they must be values. `f` is a
/// function (pointer) or a captureless lambda: the frame of a coroutine operator() of an
/// object with state would keep a reference to an object that dies when spawn returns.
/// Both rules are checked at compile time where the signature is known (a generic
/// lambda's parameters are not).
template <class F, class... Args>
    requires std::invocable<std::decay_t<F>&&, std::decay_t<Args>&&...> &&
             detail::deferrable_callable<std::decay_t<F>> && (!detail::params_have_ref<std::decay_t<F>>::value)
deferred_call<std::decay_t<F>, std::decay_t<Args>...> call(F&& f, Args&&... args) {
    return deferred_call<std::decay_t<F>, std::decay_t<Args>...>(std::forward<F>(f), std::forward<Args>(args)...);
}

/// Spawns `t` on the current runtime. Throws std::logic_error outside a runtime.
template <class T>
join_handle<T> spawn(task<T> t, std::source_location loc = std::source_location::current()) {
    return detail::spawn_on(nullptr, std::move(t), loc);
}

/// Spawns the task that `c` returns when invoked (`f(args...)`, a coroutine function
/// returning task<T>), in one allocation: the task's cell and the coroutine's frame
/// share a block, as a Tokio task holds its future. spawn(f(args...)) allocates the
/// frame when f is called, before spawn sees it, so it needs a second block for the
/// cell (docs/design/task_model.md). Otherwise the two are the same.
template <class F, class... Args>
auto spawn(deferred_call<F, Args...> c, std::source_location loc = std::source_location::current()) {
    using R = std::invoke_result_t<F&&, Args&&...>;
    static_assert(detail::is_task_v<R>, "rill::spawn(rill::call(f, ...)): f must return a rill::task");
    return detail::spawn_call_on<typename R::value_type>(nullptr, c, loc);
}

/// Runs `f()` on the current runtime's blocking pool.
template <class F>
    requires std::invocable<std::decay_t<F>&>
auto spawn_blocking(F&& f, std::source_location loc = std::source_location::current()) {
    return detail::spawn_blocking_on(detail::runtime_blocking(&detail::current_runtime_or_throw()),
                                     std::forward<F>(f), loc);
}

}  // namespace rill
