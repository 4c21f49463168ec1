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

namespace {

struct drop_flag {
    bool* flag;
    ~drop_flag() { *flag = true; }
};

rill::task<int> slow_value(rill::time::duration d, int v, bool* dropped) {
    drop_flag guard{dropped};
    co_await rill::time::sleep(d);
    co_return v;
}

rill::task<int> timeout_outcome(rill::time::duration work, rill::time::duration limit, bool* dropped) {
    try {
        co_return co_await rill::time::timeout(limit, slow_value(work, 7, dropped));
    } catch (const rill::time::elapsed&) {
        co_return -1;
    }
}

TEST(time_timeout, value_when_inner_finishes_first) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    bool dropped = false;
    EXPECT_EQ(rt.block_on(timeout_outcome(10ms, 50ms, &dropped)), 7);
    EXPECT_TRUE(dropped);
}

TEST(time_timeout, elapsed_destroys_inner_first) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    bool dropped = false;
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(rt.block_on(timeout_outcome(1h, 50ms, &dropped)), -1);
    EXPECT_TRUE(dropped);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(time_timeout, works_on_multi_thread_with_real_time) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).enable_all().build();
    bool d1 = false, d2 = false;
    EXPECT_EQ(rt.block_on(timeout_outcome(5ms, 2s, &d1)), 7);
    EXPECT_EQ(rt.block_on(timeout_outcome(10s, 20ms, &d2)), -1);
    EXPECT_TRUE(d1);
    EXPECT_TRUE(d2);
}

rill::task<int> timeout_on_join_handle() {
    bool dropped = false;
    auto h = rill::spawn(slow_value(100ms, 5, &dropped));
    int first = 0;
    try {
        first = co_await rill::time::timeout(10ms, h);
    } catch (const rill::time::elapsed&) {
        first = -1;
    }
    int second = co_await h;  // the handle is still usable after the timeout
    co_return first * 100 + second;
}

TEST(time_timeout, join_handle_by_reference_survives_timeout) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(timeout_on_join_handle()), -95);
}

}  // namespace
