// Streams and time: interval_stream, timeout (per item), throttle.
//
//     auto ticks = rill::stream::interval_stream(1s) | rill::stream::take(5);
//     auto guarded = std::move(s) | rill::stream::timeout(500ms);   // std::expected items
//     auto slow = std::move(s) | rill::stream::throttle(100ms);
//
// interval_stream(period) / interval_stream(rill::time::interval): the instant of each
// tick, forever (the first tick at once; missed ticks follow the interval's
// missed_tick_behavior).
// timeout(d): each item as std::expected<T, rill::time::elapsed>: the item, or an
// `elapsed` error when the input has not produced it within d of its being asked for.
// One error per stall, as tokio-stream's `timeout`: after the error the stream waits
// for that item with no deadline and yields it when it comes (it is not lost: the
// input's next() is cancel-safe); the deadline applies again from the next item on.
// (tokio-stream counts the deadline from the previous item; here it counts from the
// moment the item is asked for.) An item ready at the deadline's tick wins the tie. An
// exception from the input, an `elapsed` of its own included, propagates (and ends the
// stream); it is never reported as a per-item timeout.
// throttle(d): the input's items with at least d between two of them (the input is
// not polled until d has passed since the last item).
//
// Cancel safety: as next(). Resumes on: the consuming task's worker.
// Thread safety: used by one task. Requires a runtime with time enabled.
#pragma once

#include <chrono>
#include <coroutine>
#include <exception>
#include <expected>
#include <optional>
#include <utility>

#include "rill/stream/stream.hpp"
#include "rill/time/instant.hpp"
#include "rill/time/interval.hpp"
#include "rill/time/sleep.hpp"
#include "rill/time/timeout.hpp"

namespace rill::stream {

namespace detail {

inline stream<rill::time::instant> interval_impl(rill::time::interval iv) {
    for (;;) {
        rill::time::instant t = co_await iv.tick();
        co_yield t;
    }
}

/// next() of a stream with its outcome as a value: the item (or the end), or the
/// exception the stream's body threw. timeout_impl awaits it under rill::time::timeout,
/// so the only `elapsed` that escapes is the per-item deadline's, never the input's own.
template <class T>
class next_outcome_awaiter {
public:
    using one_shot_tag = void;  // not awaited by reference in a combinator (detail/branch.hpp)
    using outcome = std::expected<std::optional<T>, std::exception_ptr>;

    explicit next_outcome_awaiter(next_awaiter<T> a) noexcept : a_(std::move(a)) {}

    bool await_ready() const noexcept { return a_.await_ready(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
        return a_.await_suspend(h);
    }
    outcome await_resume() {
        try {
            return outcome(a_.await_resume());
        } catch (...) {
            return outcome(std::unexpect, std::current_exception());
        }
    }

private:
    next_awaiter<T> a_;
};

template <class T>
stream<std::expected<T, rill::time::elapsed>> timeout_impl(stream<T> s, rill::time::duration d) {
    using item = std::expected<T, rill::time::elapsed>;
    for (;;) {
        std::optional<typename next_outcome_awaiter<T>::outcome> r;
        try {
            r.emplace(co_await rill::time::timeout(d, next_outcome_awaiter<T>(s.next())));
        } catch (const rill::time::elapsed&) {
            // The deadline passed (the input's own exceptions come back inside r).
        }
        std::optional<T> v;
        if (!r) {
            co_yield item(std::unexpect);
            v = co_await s.next();  // one error per stall: now wait for the item, no deadline
        } else if (!r->has_value()) {
            std::rethrow_exception(r->error());
        } else {
            v = std::move(**r);
        }
        if (!v) break;
        co_yield item(std::move(*v));
    }
}

template <class T>
stream<T> throttle_impl(stream<T> s, rill::time::duration d) {
    std::optional<rill::time::instant> last;
    for (;;) {
        if (last) co_await rill::time::sleep_until(*last + d);
        std::optional<T> v = co_await s.next();
        if (!v) break;
        last = rill::time::instant::now();
        co_yield std::move(*v);
    }
}

struct timeout_fn {
    rill::time::duration d;
};
struct throttle_fn {
    rill::time::duration d;
};

}  // namespace detail

/// Ticks of `iv`, forever.
inline stream<rill::time::instant> interval_stream(rill::time::interval iv) {
    return detail::interval_impl(std::move(iv));
}
/// Ticks every `period` (the first at once), forever.
template <class Rep, class Period>
stream<rill::time::instant> interval_stream(std::chrono::duration<Rep, Period> period) {
    return detail::interval_impl(rill::time::interval(period));
}

template <class Rep, class Period>
detail::timeout_fn timeout(std::chrono::duration<Rep, Period> d) {
    return {std::chrono::duration_cast<rill::time::duration>(d)};
}
template <class Rep, class Period>
detail::throttle_fn throttle(std::chrono::duration<Rep, Period> d) {
    return {std::chrono::duration_cast<rill::time::duration>(d)};
}

template <class T>
auto operator|(stream<T> s, detail::timeout_fn a) {
    return detail::timeout_impl<T>(std::move(s), a.d);
}
template <class T>
auto operator|(stream<T> s, detail::throttle_fn a) {
    return detail::throttle_impl<T>(std::move(s), a.d);
}

}  // namespace rill::stream
