// rill::future::select and select_biased: the first awaitable to finish wins.
//
//     auto r = co_await rill::future::select(rill::time::sleep(5s), primary(), replica());
//     switch (r.index()) {
//         case 0: ...                                  // timed out (unit)
//         case 1: use(std::get<1>(r)); break;          // primary's value
//         case 2: use(r.get<2>()); break;
//     }
//
// Each argument becomes a branch running inside the awaiting task. The first branch to
// finish wins: every other branch is destroyed before select returns (its destructors
// run, so a lock it waited for is not taken, a timer it armed is cancelled), and the
// result (select_result: a std::variant with one alternative per branch, unit for void)
// holds the winner's value at the winner's index. A winner that threw rethrows.
//   select: branches start in a random rotation per call (Tokio's default), so a branch
//           that is always ready first cannot starve the others;
//   select_biased: branches start in argument order (tokio::select! { biased; ... }).
// After the start, branches finish in the order their wakes arrive.
//
// Loops: an argument passed as an lvalue (or through by_ref) is awaited by reference
// and survives the select. A task awaited that way keeps its progress when another
// branch wins, and the next select continues it (Rust's `&mut fut` in select!): a
// slow operation is not restarted each time another arm fires. Not so the one-shot
// awaiters (those of select, join, join_all, time::timeout, stream next(),
// futures_unordered next()): by reference they are a compile error (they would outlive
// a losing branch still attached to it); pass them as rvalues, `select(s.next(), ...)`,
// `select(join(a, b), ...)`, or put the operation in a task. See future/by_ref.hpp.
//
// Cancel safety: select is as cancel-safe as its branches: a losing branch is destroyed
// exactly as if its coroutine were destroyed. Use cancel-safe operations (channel
// receive, a timer or a task by reference) for branches that lose often.
// Resumes on: the awaiting task's worker.
// Thread safety: used by one task.
#pragma once

#include <coroutine>
#include <cstddef>
#include <tuple>
#include <utility>
#include <variant>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/branch.hpp"
#include "rill/future/by_ref.hpp"
#include "rill/future/unit.hpp"

namespace rill::future {

/// Which branch of a select won (index()) and its value (std::get<I>, get<I>()).
template <class... T>
class select_result : public std::variant<T...> {
public:
    using std::variant<T...>::variant;

    template <std::size_t I>
    decltype(auto) get() & {
        return std::get<I>(static_cast<std::variant<T...>&>(*this));
    }
    template <std::size_t I>
    decltype(auto) get() && {
        return std::get<I>(static_cast<std::variant<T...>&&>(*this));
    }
    const std::variant<T...>& as_variant() const noexcept { return *this; }
};

namespace detail {

/// A random start index in [0, n) (thread-local generator; src/future/select.cpp).
unsigned select_start(unsigned n) noexcept;

template <bool Biased, class... A>
class select_awaiter {
    static constexpr std::size_t n = sizeof...(A);
    using branches_t = std::tuple<rill::detail::branch<rill::detail::await_result_t<A>>...>;

public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    using result_type = select_result<value_t<rill::detail::await_result_t<A>>...>;

    explicit select_awaiter(A&&... a)
        : branches_(rill::detail::branch<rill::detail::await_result_t<A>>(
              rill::detail::make_branch<rill::detail::await_result_t<A>, A>(std::forward<A>(a)))...) {}
    /// Moved only before it is awaited (into a select or join branch, as an rvalue).
    select_awaiter(select_awaiter&&) noexcept = default;
    select_awaiter(const select_awaiter&) = delete;
    select_awaiter& operator=(const select_awaiter&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = awaiting_node(h);
        parent_ = h;
        const unsigned first = Biased ? 0u : select_start(static_cast<unsigned>(n));
        for (unsigned k = 0; k < n && winner_ < 0; ++k) {
            unsigned i = first + k;
            if (i >= n) i -= static_cast<unsigned>(n);
            start_at(node, i, std::make_index_sequence<n>{});
        }
        if (winner_ >= 0) return false;
        armed_ = true;
        return true;
    }
    result_type await_resume() {
        armed_ = false;
        // Losers first: their destructors run before the winner's value is handed out.
        reset_losers(std::make_index_sequence<n>{});
        return take_winner(std::make_index_sequence<n>{});
    }

private:
    template <std::size_t... I>
    void start_at(rill::detail::wake_node* node, unsigned i, std::index_sequence<I...>) {
        ((i == I ? std::get<I>(branches_).start(node, this, &on_done, I) : void()), ...);
    }
    template <std::size_t... I>
    void reset_losers(std::index_sequence<I...>) noexcept {
        ((static_cast<int>(I) != winner_ ? std::get<I>(branches_).reset() : void()), ...);
    }
    template <std::size_t I>
    result_type take_one() {
        return result_type(std::in_place_index<I>, take_value(std::get<I>(branches_)));
    }
    template <std::size_t... I>
    result_type take_winner(std::index_sequence<I...>) {
        using fn = result_type (select_awaiter::*)();
        static constexpr fn table[] = {&select_awaiter::take_one<I>...};
        return (this->*table[winner_])();
    }

    static std::coroutine_handle<> on_done(void* self, unsigned index) noexcept {
        auto* s = static_cast<select_awaiter*>(self);
        if (s->winner_ < 0) s->winner_ = static_cast<int>(index);
        if (s->armed_) {
            s->armed_ = false;
            return s->parent_;
        }
        return std::noop_coroutine();
    }

    branches_t branches_;
    std::coroutine_handle<> parent_{};
    int winner_ = -1;
    bool armed_ = false;
};

}  // namespace detail

/// The first of `a...` to finish; the others are destroyed. Random start order.
template <class... A>
    requires(sizeof...(A) > 0 && (rill::awaitable<A> && ...))
auto select(A&&... a) {
    return detail::select_awaiter<false, A...>(std::forward<A>(a)...);
}

/// As select, with branches started in argument order.
template <class... A>
    requires(sizeof...(A) > 0 && (rill::awaitable<A> && ...))
auto select_biased(A&&... a) {
    return detail::select_awaiter<true, A...>(std::forward<A>(a)...);
}

}  // namespace rill::future
