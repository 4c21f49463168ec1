#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "rill/rill.hpp"

using namespace std::chrono_literals;

namespace {

rill::task<rill::time::duration> sleep_and_measure(rill::time::duration d) {
    auto start = rill::time::instant::now();
    co_await rill::time::sleep(d);
    co_return rill::time::instant::now() - start;
}

TEST(time_sleep, never_wakes_early_multi_thread) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).enable_all().build();
    auto elapsed = rt.block_on(sleep_and_measure(20ms));
    EXPECT_GE(elapsed, 20ms);
}

TEST(time_sleep, never_wakes_early_current_thread) {
    auto rt = rill::builder::new_current_thread().enable_all().build();
    auto elapsed = rt.block_on(sleep_and_measure(15ms));
    EXPECT_GE(elapsed, 15ms);
}

TEST(time_sleep, paused_clock_sleeps_an_hour_exactly) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    auto real_start = std::chrono::steady_clock::now();
    auto elapsed = rt.block_on(sleep_and_measure(1h));
    EXPECT_EQ(elapsed, std::chrono::nanoseconds(1h));
    EXPECT_LT(std::chrono::steady_clock::now() - real_start, 10s);  // not a real hour
}

rill::task<void> record_after(rill::time::duration d, std::vector<int>* out, int id) {
    co_await rill::time::sleep(d);
    out->push_back(id);
}

rill::task<std::vector<int>> ordered_sleeps() {
    std::vector<int> out;
    std::vector<rill::join_handle<void>> hs;
    hs.push_back(rill::spawn(record_after(300ms, &out, 3)));
    hs.push_back(rill::spawn(record_after(100ms, &out, 1)));
    hs.push_back(rill::spawn(record_after(200ms, &out, 2)));
    hs.push_back(rill::spawn(record_after(5000ms, &out, 5)));
    for (auto& h : hs) co_await h;
    co_return out;
}

TEST(time_sleep, paused_clock_fires_in_deadline_order) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(ordered_sleeps()), (std::vector<int>{1, 2, 3, 5}));
}

rill::task<std::vector<rill::time::duration>> interval_ticks(int n) {
    auto start = rill::time::instant::now();
    rill::time::interval iv(10ms);
    std::vector<rill::time::duration> at;
    for (int i = 0; i < n; ++i) {
        co_await iv.tick();
        at.push_back(rill::time::instant::now() - start);
    }
    co_return at;
}

TEST(time_interval, ticks_at_period_on_paused_clock) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    auto at = rt.block_on(interval_ticks(5));
    ASSERT_EQ(at.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(at[i], std::chrono::nanoseconds(10ms * i));
}

}  // namespace
