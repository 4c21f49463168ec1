// rill::time::instant: a point on the runtime's monotonic clock.
//
// instant::now() reads std::chrono::steady_clock, except inside a runtime whose clock is
// paused (time::pause, builder::start_paused), where it reads the paused clock that only
// time::advance moves. Arithmetic saturates at the epoch instead of going negative.
#pragma once

#include <chrono>
#include <compare>

namespace rill::time {

using duration = std::chrono::nanoseconds;

namespace detail {
std::chrono::steady_clock::time_point now() noexcept;
}

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
        return tp_ > earlier.tp_ ? std::chrono::duration_cast<duration>(tp_ - earlier.tp_) : duration::zero();
    }

    template <class Rep, class Period>
    instant operator+(std::chrono::duration<Rep, Period> d) const noexcept {
        return instant(tp_ + std::chrono::duration_cast<duration>(d));
    }
    template <class Rep, class Period>
    instant operator-(std::chrono::duration<Rep, Period> d) const noexcept {
        return instant(tp_ - std::chrono::duration_cast<duration>(d));
    }
    template <class Rep, class Period>
    instant& operator+=(std::chrono::duration<Rep, Period> d) noexcept {
        tp_ += std::chrono::duration_cast<duration>(d);
        return *this;
    }
    duration operator-(instant o) const noexcept { return std::chrono::duration_cast<duration>(tp_ - o.tp_); }
    auto operator<=>(const instant&) const noexcept = default;

    clock::time_point time_point() const noexcept { return tp_; }

private:
    clock::time_point tp_{};
};

}  // namespace rill::time
