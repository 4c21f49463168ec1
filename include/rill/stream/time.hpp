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
// `elapsed` error when the input took longer than d to produce it since it was asked;
// after an error the stream goes on, and the pending item is not lost (the input's
// next() is cancel-safe), as in tokio-stream.
// throttle(d): the input's items with at least d between two of them (the input is
// not polled until d has passed since the last item).
//
// Cancel safety: as next(). Resumes on: the consuming task's worker.
// Thread safety: used by one task. Requires a runtime with time enabled.
#pragma once

#include <chrono>
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

template <class T>
stream<std::expected<T, rill::time::elapsed>> timeout_impl(stream<T> s, rill::time::duration d) {
    for (;;) {
        std::optional<T> v;
        bool timed_out = false;
        try {
            v = co_await rill::time::timeout(d, s.next());
        } catch (const rill::time::elapsed&) {
            timed_out = true;
        }
        if (timed_out) {
            co_yield std::expected<T, rill::time::elapsed>(std::unexpect);
            continue;
        }
        if (!v) break;
        co_yield std::expected<T, rill::time::elapsed>(std::move(*v));
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
