// rill::future::join and try_join: run several awaitables concurrently in this task.
//
//     auto [a, b] = co_await rill::future::join(fetch("a"), fetch("b"));
//     auto [x, y] = co_await rill::future::try_join(load(), store());
//
// Each argument becomes a branch (detail/branch.hpp) with its own wake node, run on
// the awaiting task's thread (DESIGN §4: one task, one thread); a void awaitable gives
// `unit`. Branches start in argument order, each until it first suspends; the join
// completes when all have finished.
//   join: waits for every branch; if any threw, rethrows the exception of the first
//         branch that finished with one (the others still ran to completion).
//   try_join: the first exception destroys (cancels) the branches still running and
//         propagates at once.
// Arguments taken as rvalues are moved into the join; lvalues are awaited by reference
// (they must outlive the await, and a task keeps its progress if the join is dropped),
// except the one-shot awaiters of select/join/join_all/timeout/next(), which must be
// rvalues (a compile error otherwise; see future/by_ref.hpp).
//
// Cancel safety: destroying a coroutine suspended in join destroys every branch (each
// awaitable's own cancel safety applies).
// Resumes on: the awaiting task's worker.
// Thread safety: used by one task.
#pragma once

#include <coroutine>
#include <cstddef>
#include <tuple>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/branch.hpp"
#include "rill/future/unit.hpp"

namespace rill::future {

namespace detail {

template <bool Try, class... A>
class join_awaiter {
    static constexpr std::size_t n = sizeof...(A);
    using branches_t = std::tuple<rill::detail::branch<rill::detail::await_result_t<A>>...>;

public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    using result_type = std::tuple<value_t<rill::detail::await_result_t<A>>...>;

    explicit join_awaiter(A&&... a)
        : branches_(rill::detail::branch<rill::detail::await_result_t<A>>(
              rill::detail::make_branch<rill::detail::await_result_t<A>, A>(std::forward<A>(a)))...) {}
    /// Moved only before it is awaited (into a select or join branch, as an rvalue).
    join_awaiter(join_awaiter&&) noexcept = default;
    join_awaiter(const join_awaiter&) = delete;
    join_awaiter& operator=(const join_awaiter&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = awaiting_node(h);
        parent_ = h;
        remaining_ = n;
        start_all(node, std::make_index_sequence<n>{});
        if (remaining_ == 0 || (Try && failed_ >= 0)) return false;
        armed_ = true;
        return true;
    }
    result_type await_resume() {
        armed_ = false;
        if (failed_ >= 0) {
            if constexpr (Try) reset_others(std::make_index_sequence<n>{});
            rethrow_failed(std::make_index_sequence<n>{});
        }
        return take_all(std::make_index_sequence<n>{});
    }

private:
    template <std::size_t... I>
    void start_all(rill::detail::wake_node* node, std::index_sequence<I...>) {
        // In order; try_join stops starting branches once one has failed.
        (((Try && failed_ >= 0) ? void() : std::get<I>(branches_).start(node, this, &on_done, I)), ...);
    }
    template <std::size_t... I>
    bool failed_at(unsigned index, std::index_sequence<I...>) noexcept {
        bool f = false;
        ((index == I ? (f = std::get<I>(branches_).failed(), 0) : 0), ...);
        return f;
    }
    template <std::size_t... I>
    void reset_others(std::index_sequence<I...>) noexcept {
        ((static_cast<int>(I) != failed_ ? std::get<I>(branches_).reset() : void()), ...);
    }
    template <std::size_t... I>
    void rethrow_failed(std::index_sequence<I...>) {
        ((static_cast<int>(I) == failed_ ? (void)std::get<I>(branches_).take() : void()), ...);
    }
    template <std::size_t... I>
    result_type take_all(std::index_sequence<I...>) {
        return result_type(take_value(std::get<I>(branches_))...);
    }

    static std::coroutine_handle<> on_done(void* self, unsigned index) noexcept {
        auto* s = static_cast<join_awaiter*>(self);
        --s->remaining_;
        if (s->failed_ < 0 && s->failed_at(index, std::make_index_sequence<n>{})) {
            s->failed_ = static_cast<int>(index);
            if (Try && s->armed_) {
                s->armed_ = false;
                return s->parent_;
            }
        }
        if (s->remaining_ == 0 && s->armed_) {
            s->armed_ = false;
            return s->parent_;
        }
        return std::noop_coroutine();
    }

    branches_t branches_;
    std::coroutine_handle<> parent_{};
    std::size_t remaining_ = 0;
    int failed_ = -1;
    bool armed_ = false;
};

}  // namespace detail

/// Awaits all of `a...` concurrently; a tuple of their results (unit for void).
template <class... A>
    requires(sizeof...(A) > 0 && (rill::awaitable<A> && ...))
auto join(A&&... a) {
    return detail::join_awaiter<false, A...>(std::forward<A>(a)...);
}

/// As join, but the first exception cancels the other branches and propagates.
template <class... A>
    requires(sizeof...(A) > 0 && (rill::awaitable<A> && ...))
auto try_join(A&&... a) {
    return detail::join_awaiter<true, A...>(std::forward<A>(a)...);
}

}  // namespace rill::future
