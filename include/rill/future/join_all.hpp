// rill::future::join_all and try_join_all: await every awaitable of a range.
//
//     std::vector<rill::task<int>> calls;
//     for (int i = 0; i < 3; ++i) calls.push_back(delayed(i));
//     std::vector<int> r = co_await rill::future::join_all(std::move(calls));  // input order
//
// Each element becomes a branch of the awaiting task, started in order; a wake resumes
// exactly the branch it is for (the task's inbox of woken branch nodes), so the work
// per wake is O(1) and a join over 100,000 branches is linear. Results come back in
// input order (unit for void).
//   join_all: waits for all; if any threw, rethrows the exception of the first branch
//             that finished with one.
//   try_join_all: the first exception destroys the remaining branches and propagates.
// A range passed as an rvalue is consumed (its elements are moved into the branches);
// an lvalue range's elements are awaited by reference and must outlive the await (not
// allowed for one-shot awaiters such as next() or join(); see future/by_ref.hpp).
//
// Cancel safety: destroying the awaiting coroutine destroys every branch.
// Resumes on: the awaiting task's worker.
// Thread safety: used by one task.
#pragma once

#include <coroutine>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/branch.hpp"
#include "rill/future/unit.hpp"

namespace rill::future {

namespace detail {

template <bool Try, class T>
class join_all_awaiter {
public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    explicit join_all_awaiter(std::vector<rill::detail::branch<T>> branches) noexcept
        : branches_(std::move(branches)) {}
    /// Moved only before it is awaited (into a select or join branch, as an rvalue).
    join_all_awaiter(join_all_awaiter&&) noexcept = default;
    join_all_awaiter(const join_all_awaiter&) = delete;
    join_all_awaiter& operator=(const join_all_awaiter&) = delete;

    bool await_ready() const noexcept { return branches_.empty(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        rill::detail::wake_node* node = awaiting_node(h);
        parent_ = h;
        remaining_ = branches_.size();
        for (std::size_t i = 0; i < branches_.size(); ++i) {
            if (Try && failed_ != npos) break;
            branches_[i].start(node, this, &on_done, static_cast<unsigned>(i));
        }
        if (remaining_ == 0 || (Try && failed_ != npos)) return false;
        armed_ = true;
        return true;
    }
    std::vector<value_t<T>> await_resume() {
        armed_ = false;
        if (failed_ != npos) {
            if constexpr (Try) {
                for (std::size_t i = 0; i < branches_.size(); ++i)
                    if (i != failed_) branches_[i].reset();
            }
            branches_[failed_].take();  // rethrows
        }
        std::vector<value_t<T>> out;
        out.reserve(branches_.size());
        for (auto& b : branches_) out.push_back(take_value(b));
        branches_.clear();
        return out;
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    static std::coroutine_handle<> on_done(void* self, unsigned index) noexcept {
        auto* s = static_cast<join_all_awaiter*>(self);
        --s->remaining_;
        if (s->failed_ == npos && s->branches_[index].failed()) {
            s->failed_ = index;
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

    std::vector<rill::detail::branch<T>> branches_;
    std::coroutine_handle<> parent_{};
    std::size_t remaining_ = 0;
    std::size_t failed_ = npos;
    bool armed_ = false;
};

// The branch argument type for an element of R: by value from an rvalue range, by
// reference from an lvalue one.
template <class R>
using element_arg_t = std::conditional_t<std::is_lvalue_reference_v<R>, std::ranges::range_reference_t<R>,
                                         std::ranges::range_value_t<std::remove_cvref_t<R>>>;

template <bool Try, class R>
auto make_join_all(R&& range) {
    using A = element_arg_t<R>;
    using T = rill::detail::await_result_t<A>;
    std::vector<rill::detail::branch<T>> branches;
    if constexpr (std::ranges::sized_range<R>) branches.reserve(std::ranges::size(range));
    for (auto&& e : range) {
        if constexpr (std::is_lvalue_reference_v<R>) {
            branches.emplace_back(rill::detail::make_branch<T, A>(e));
        } else {
            branches.emplace_back(rill::detail::make_branch<T, A>(std::move(e)));
        }
    }
    return join_all_awaiter<Try, T>(std::move(branches));
}

}  // namespace detail

/// Awaits every element of `range` concurrently; their results in input order.
template <std::ranges::input_range R>
    requires rill::awaitable<detail::element_arg_t<R>>
auto join_all(R&& range) {
    return detail::make_join_all<false>(std::forward<R>(range));
}

/// As join_all, but the first exception cancels the rest and propagates.
template <std::ranges::input_range R>
    requires rill::awaitable<detail::element_arg_t<R>>
auto try_join_all(R&& range) {
    return detail::make_join_all<true>(std::forward<R>(range));
}

}  // namespace rill::future
