// interval: tick times and each missed-tick behaviour, exact on the paused clock.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "rill/rill.hpp"

using namespace std::chrono_literals;
using rill::time::duration;
using rill::time::instant;

namespace {

rill::runtime paused_runtime() {
    return rill::builder::new_current_thread().enable_time().start_paused(true).build();
}

// Ticks once, falls 35 ms behind, then records when the next `n` ticks complete and
// which instants they report.
rill::task<std::vector<std::pair<duration, duration>>> late_ticks(rill::time::missed_tick_behavior b, int n) {
    const instant start = instant::now();
    rill::time::interval iv(10ms);
    iv.set_missed_tick_behavior(b);
    co_await iv.tick();  // the first tick completes at once
    co_await rill::time::advance(35ms);
    std::vector<std::pair<duration, duration>> out;
    for (int i = 0; i < n; ++i) {
        instant scheduled = co_await iv.tick();
        out.emplace_back(instant::now() - start, scheduled - start);
    }
    co_return out;
}

std::vector<std::pair<duration, duration>> ms_pairs(std::initializer_list<std::pair<int, int>> v) {
    std::vector<std::pair<duration, duration>> out;
    for (auto [a, b] : v) out.emplace_back(std::chrono::milliseconds(a), std::chrono::milliseconds(b));
    return out;
}

TEST(time_interval, burst_catches_up_back_to_back) {
    auto rt = paused_runtime();
    auto got = rt.block_on(late_ticks(rill::time::missed_tick_behavior::burst, 5));
    EXPECT_EQ(got, ms_pairs({{35, 10}, {35, 20}, {35, 30}, {40, 40}, {50, 50}}));
}

TEST(time_interval, delay_restarts_the_period_from_the_late_tick) {
    auto rt = paused_runtime();
    auto got = rt.block_on(late_ticks(rill::time::missed_tick_behavior::delay, 3));
    EXPECT_EQ(got, ms_pairs({{35, 10}, {45, 45}, {55, 55}}));
}

TEST(time_interval, skip_jumps_to_the_next_multiple_of_the_period) {
    auto rt = paused_runtime();
    auto got = rt.block_on(late_ticks(rill::time::missed_tick_behavior::skip, 3));
    EXPECT_EQ(got, ms_pairs({{35, 10}, {40, 40}, {50, 50}}));
}

rill::task<std::vector<duration>> reset_then_tick() {
    const instant start = instant::now();
    rill::time::interval iv(100ms);
    std::vector<duration> out;
    co_await iv.tick();
    out.push_back(instant::now() - start);
    co_await rill::time::advance(30ms);
    iv.reset();  // next tick one full period from now (130 ms), not at 100 ms
    co_await iv.tick();
    out.push_back(instant::now() - start);
    iv.reset_immediately();
    co_await iv.tick();
    out.push_back(instant::now() - start);
    co_return out;
}

TEST(time_interval, reset_moves_the_next_tick) {
    auto rt = paused_runtime();
    auto got = rt.block_on(reset_then_tick());
    EXPECT_EQ(got, (std::vector<duration>{0ms, 130ms, 130ms}));
}

rill::task<std::vector<duration>> interval_at_ticks() {
    const instant start = instant::now();
    auto iv = rill::time::interval_at(start + 50ms, 25ms);
    std::vector<duration> out;
    for (int i = 0; i < 3; ++i) {
        co_await iv.tick();
        out.push_back(instant::now() - start);
    }
    co_return out;
}

TEST(time_interval, interval_at_starts_later) {
    auto rt = paused_runtime();
    EXPECT_EQ(rt.block_on(interval_at_ticks()), (std::vector<duration>{50ms, 75ms, 100ms}));
}

TEST(time_interval, zero_period_is_rejected) {
    EXPECT_THROW(rill::time::interval(instant::now(), duration::zero()), std::invalid_argument);
}

}  // namespace
