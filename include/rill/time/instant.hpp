// rill::time::instant: a point on the runtime's monotonic clock.
//
// instant::now() reads std::chrono::steady_clock, except inside a runtime whose clock is
// paused (time::pause, builder::start_paused), where it reads the paused clock that only
// time::advance moves. Arithmetic saturates: at the epoch instead of going negative, at
// the clock's last instant (about 292 years after boot) instead of overflowing, and a
// duration too long for nanoseconds (hours::max()) counts as nanoseconds::max(). So
// `sleep(nanoseconds::max())` or `timeout(seconds::max(), f)` means "never" (in practice:
// centuries away), not "now".
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <ratio>
#include <type_traits>
#include <utility>

namespace rill::time {

using duration = std::chrono::nanoseconds;

namespace detail {
std::chrono::steady_clock::time_point now() noexcept;

/// `d` in nanoseconds (truncated, as duration_cast), clamped to duration's range where
/// the exact value would not fit.
template <class Rep, class Period>
constexpr duration saturating_ns(std::chrono::duration<Rep, Period> d) noexcept {
    using rep = duration::rep;
    using lim = std::numeric_limits<rep>;
    using per_tick = std::ratio_divide<Period, std::nano>;  // nanoseconds per tick of d
    if constexpr (std::is_integral_v<Rep> && per_tick::den == 1) {
        // Coarser than (or as fine as) a nanosecond: ns = count * per_tick::num.
        constexpr std::intmax_t k = per_tick::num;
        const Rep c = d.count();
        if (std::cmp_greater(c, lim::max() / k)) return duration::max();
        if (std::cmp_less(c, lim::min() / k)) return duration::min();
        return duration(static_cast<rep>(c) * k);
    } else if constexpr (std::is_integral_v<Rep> && per_tick::num == 1) {
        // Finer: ns = count / per_tick::den, which only overflows for a Rep wider than rep.
        const Rep q = d.count() / static_cast<Rep>(per_tick::den);
        if (std::cmp_greater(q, lim::max())) return duration::max();
        if (std::cmp_less(q, lim::min())) return duration::min();
        return duration(static_cast<rep>(q));
    } else {
        // Floating point or an odd period: decide in long double (NaN counts as max).
        const long double ns = std::chrono::duration<long double, std::nano>(d).count();
        if (!(ns < static_cast<long double>(lim::max()))) return duration::max();
        if (!(ns > static_cast<long double>(lim::min()))) return duration::min();
        return duration(static_cast<rep>(ns));
    }
}

/// `c + n` and `c - n` on tick counts, clamped to the range of int64.
constexpr std::int64_t saturating_add(std::int64_t c, std::int64_t n) noexcept {
    using lim = std::numeric_limits<std::int64_t>;
    if (n >= 0) return c > lim::max() - n ? lim::max() : c + n;
    return c < lim::min() - n ? lim::min() : c + n;
}
constexpr std::int64_t saturating_sub(std::int64_t c, std::int64_t n) noexcept {
    using lim = std::numeric_limits<std::int64_t>;
    if (n <= 0) return c > lim::max() + n ? lim::max() : c - n;
    return c < lim::min() + n ? lim::min() : c - n;
}
}  // namespace detail

class instant {
public:
    using clock = std::chrono::steady_clock;

    constexpr instant() noexcept = default;
    constexpr explicit instant(clock::time_point tp) noexcept : tp_(tp) {}

    /// The current time (the paused clock inside a paused runtime).
    static instant now() noexcept { return instant(detail::now()); }

    /// Time since this instant (zero if it is in the future).
    duration elapsed() const noexcept { return now().duration_since(*this); }
    /// Time from `earlier` to this instant, or zero if `earlier` is later.
    duration duration_since(instant earlier) const noexcept {
        return tp_ > earlier.tp_ ? *this - earlier : duration::zero();
    }

    /// Saturates (see the top of this file).
    template <class Rep, class Period>
    instant operator+(std::chrono::duration<Rep, Period> d) const noexcept {
        return at_least_epoch(detail::saturating_add(count(), detail::saturating_ns(d).count()));
    }
    /// Saturates (see the top of this file).
    template <class Rep, class Period>
    instant operator-(std::chrono::duration<Rep, Period> d) const noexcept {
        return at_least_epoch(detail::saturating_sub(count(), detail::saturating_ns(d).count()));
    }
    template <class Rep, class Period>
    instant& operator+=(std::chrono::duration<Rep, Period> d) noexcept {
        return *this = *this + d;
    }
    template <class Rep, class Period>
    instant& operator-=(std::chrono::duration<Rep, Period> d) noexcept {
        return *this = *this - d;
    }
    /// The signed time from `o` to this instant (saturating).
    duration operator-(instant o) const noexcept { return duration(detail::saturating_sub(count(), o.count())); }
    auto operator<=>(const instant&) const noexcept = default;

    clock::time_point time_point() const noexcept { return tp_; }

private:
    static_assert(std::is_same_v<clock::duration, duration>, "instant counts steady_clock nanoseconds");
    std::int64_t count() const noexcept { return tp_.time_since_epoch().count(); }
    // The result of arithmetic on an instant at or after the epoch stays there.
    instant at_least_epoch(std::int64_t c) const noexcept {
        return instant(clock::time_point(duration(c < 0 && count() >= 0 ? 0 : c)));
    }

    clock::time_point tp_{};
};

}  // namespace rill::time
