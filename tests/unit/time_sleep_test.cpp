#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
// White-box: the wheel is internal (src/), but its expiration rule is what keeps a far
// deadline from hanging the runtime, so it is tested directly as well.
#include "../../src/runtime/time/wheel.hpp"

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

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int million = 100'000;  // sanitizers: 10x fewer, same code paths
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int million = 100'000;
#else
constexpr int million = 1'000'000;
#endif
#else
constexpr int million = 1'000'000;
#endif

struct order_log {
    rill::time::instant start;
    std::uint64_t last_deadline_ms = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t off_deadline = 0;
    std::uint64_t done = 0;
};

rill::task<void> sleeper(order_log* log, std::uint64_t ms) {
    co_await rill::time::sleep(std::chrono::milliseconds(ms));
    auto at = rill::time::instant::now() - log->start;
    if (at != std::chrono::milliseconds(ms)) ++log->off_deadline;
    if (ms < log->last_deadline_ms) ++log->out_of_order;
    log->last_deadline_ms = ms;
    ++log->done;
}

rill::task<void> many_sleeps(order_log* log) {
    log->start = rill::time::instant::now();
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < million; ++i) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rill::spawn(sleeper(log, 1 + (x * 0x2545F4914F6CDD1Dull) % 1000)).detach();
    }
    co_await rill::time::sleep(2s);
}

TEST(time_sleep, a_million_sleeps_fire_at_their_deadlines_in_order) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    order_log log;
    rt.block_on(many_sleeps(&log));
    EXPECT_EQ(log.done, static_cast<std::uint64_t>(million));
    EXPECT_EQ(log.off_deadline, 0u);
    EXPECT_EQ(log.out_of_order, 0u);
}

rill::task<rill::time::duration> reset_pending_sleep() {
    auto start = rill::time::instant::now();
    rill::time::timer t = rill::time::sleep(1h);
    bool dropped = false;
    // Start waiting on it from a branch that times out: the timer stays armed.
    try {
        co_await rill::time::timeout(10ms, t);
    } catch (const rill::time::elapsed&) {
        dropped = true;
    }
    if (!dropped) co_return rill::time::duration::zero();
    t.reset(start + 50ms);
    co_await t;
    co_return rill::time::instant::now() - start;
}

TEST(time_sleep, reset_moves_a_pending_sleep) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(reset_pending_sleep()), std::chrono::nanoseconds(50ms));
}

struct count_drop {
    std::atomic<int>* n;
    ~count_drop() { n->fetch_add(1); }
};

std::atomic<int> g_sleepers_started{0};

rill::task<void> sleep_forever(std::atomic<int>* dropped) {
    count_drop guard{dropped};
    g_sleepers_started.fetch_add(1);
    co_await rill::time::sleep(24h);
}

rill::task<int> abort_sleepers(int n, std::atomic<int>* dropped) {
    g_sleepers_started = 0;
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(rill::spawn(sleep_forever(dropped)));
    // Abort only once every task is inside its sleep (a task aborted before it ever
    // ran has no locals to destroy).
    while (g_sleepers_started.load() < n) co_await rill::time::sleep(1ms);
    for (auto& h : hs) h.abort();
    int cancelled = 0;
    for (auto& h : hs) {
        try {
            co_await h;
        } catch (const rill::join_error& e) {
            cancelled += e.is_cancelled();
        }
    }
    co_return cancelled;
}

TEST(time_sleep, aborting_sleeping_tasks_unregisters_their_timers) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).enable_all().build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(abort_sleepers(1000, &dropped)), 1000);
    EXPECT_EQ(dropped.load(), 1000);
}

rill::task<void> sleep_forever_ms(int ms) { co_await rill::time::sleep(std::chrono::milliseconds(ms)); }

TEST(time_sleep, mock_task_sees_exactly_one_waker_and_no_early_wake) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    auto body = []() -> rill::task<int> {
        rill::test::mock_task<void> t(sleep_forever_ms(100));
        EXPECT_TRUE(t.poll().is_pending());
        EXPECT_EQ(t.waker_count(), 1u);  // the wheel holds it
        EXPECT_FALSE(t.is_woken());
        co_await rill::time::advance(99ms);
        EXPECT_FALSE(t.is_woken());
        co_await rill::time::advance(1ms);
        EXPECT_TRUE(t.is_woken());
        EXPECT_EQ(t.waker_count(), 0u);  // consumed by the wake
        EXPECT_TRUE(t.poll().is_ready());
        co_return 1;
    };
    EXPECT_EQ(rt.block_on(body()), 1);
}

TEST(time_sleep, sleep_without_time_enabled_throws) {
    auto rt = rill::builder::new_current_thread().build();
    auto body = []() -> rill::task<bool> {
        try {
            co_await rill::time::sleep(1ms);
        } catch (const std::logic_error&) {
            co_return true;
        }
        co_return false;
    };
    EXPECT_TRUE(rt.block_on(body()));
}

}  // namespace

// --- far deadlines, saturation, ties, resume, errors --------------------------------------

namespace {

using rill::detail::timer_entry;
using rill::detail::timer_wheel;

std::size_t drain(timer_wheel& w, std::uint64_t now, std::vector<timer_entry*>* fired) {
    std::size_t n = 0;
    while (!w.advance(now, [&](timer_entry* e) {
        fired->push_back(e);
        ++n;
        return true;
    })) {
    }
    return n;
}

TEST(time_wheel, a_deadline_one_rotation_ahead_expires_in_the_future) {
    timer_wheel w;
    std::vector<timer_entry*> fired;
    drain(w, 5, &fired);
    ASSERT_EQ(w.elapsed(), 5u);
    timer_entry far;
    far.deadline_ms_ = 5 + timer_wheel::max_span;  // lands in the top-level slot of now
    ASSERT_TRUE(w.insert(&far));
    ASSERT_TRUE(w.next_expiration().has_value());
    ASSERT_GT(*w.next_expiration(), w.elapsed());  // (advancing past it used to loop forever)
    // A nearer top-level timer in a later slot is not hidden behind the far one.
    timer_entry nearer;
    nearer.deadline_ms_ = std::uint64_t{3} << 30;
    ASSERT_TRUE(w.insert(&nearer));
    EXPECT_EQ(*w.next_expiration(), std::uint64_t{3} << 30);
    EXPECT_EQ(drain(w, (std::uint64_t{3} << 30) - 1, &fired), 0u);
    EXPECT_EQ(drain(w, std::uint64_t{3} << 30, &fired), 1u);
    EXPECT_EQ(fired.back(), &nearer);
    // The far one fires at its deadline, not before.
    EXPECT_EQ(drain(w, far.deadline_ms_ - 1, &fired), 0u);
    EXPECT_EQ(drain(w, far.deadline_ms_, &fired), 1u);
    EXPECT_EQ(fired.back(), &far);
    EXPECT_TRUE(w.empty());
}

TEST(time_wheel, a_deadline_beyond_the_span_keeps_its_deadline) {
    timer_wheel w;
    std::vector<timer_entry*> fired;
    drain(w, 7, &fired);
    timer_entry far;
    const std::uint64_t deadline = 7 + 3 * timer_wheel::max_span;
    far.deadline_ms_ = deadline;
    ASSERT_TRUE(w.insert(&far));
    EXPECT_EQ(far.deadline_ms_, deadline);
    // Step from expiration to expiration, as the paused clock does: nothing fires early
    // and every step moves forward.
    int steps = 0;
    while (fired.empty()) {
        ASSERT_LT(++steps, 10'000);
        const auto next = w.next_expiration();
        ASSERT_TRUE(next.has_value());
        ASSERT_GT(*next, w.elapsed());
        drain(w, *next, &fired);
        if (fired.empty()) {
            EXPECT_LT(*next, deadline);
        } else {
            EXPECT_EQ(*next, deadline);
        }
    }
    EXPECT_EQ(fired.front(), &far);
}

rill::task<std::size_t> far_sleep_races_a_near_one(rill::time::duration far) {
    co_await rill::time::sleep(5ms);
    auto r = co_await rill::future::select(rill::time::sleep(far), rill::time::sleep(10ms));
    co_return r.index();
}

TEST(time_sleep, a_sleep_beyond_the_wheel_span_does_not_hang_the_runtime) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(far_sleep_races_a_near_one(std::chrono::years(3))), 1u);
    EXPECT_EQ(rt.block_on(far_sleep_races_a_near_one(std::chrono::days(800))), 1u);
}

TEST(time_sleep, a_sleep_beyond_the_wheel_span_ends_at_its_deadline) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(sleep_and_measure(std::chrono::years(3))), std::chrono::nanoseconds(std::chrono::years(3)));
}

rill::task<int> timeout_seconds_max() {
    bool dropped = false;
    try {
        co_return co_await rill::time::timeout(std::chrono::seconds::max(), slow_value(10ms, 7, &dropped));
    } catch (const rill::time::elapsed&) {
        co_return -1;
    }
}

TEST(time_sleep, maximal_durations_never_complete_at_once) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_EQ(rt.block_on(far_sleep_races_a_near_one(std::chrono::nanoseconds::max())), 1u);
    auto body = []() -> rill::task<std::size_t> {
        co_await rill::time::sleep(5ms);
        auto r = co_await rill::future::select(rill::time::sleep(std::chrono::hours::max()),
                                               rill::time::sleep(std::chrono::seconds::max()),
                                               rill::time::sleep(10ms));
        co_return r.index();
    };
    EXPECT_EQ(rt.block_on(body()), 2u);
    EXPECT_EQ(rt.block_on(timeout_seconds_max()), 7);
    // Alone on a paused clock, it ends at the clock's end (centuries on), not in a hang.
    auto rt2 = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_GE(rt2.block_on(sleep_and_measure(std::chrono::nanoseconds::max())), std::chrono::years(290));
}

TEST(time_instant, arithmetic_saturates) {
    const auto now = rill::time::instant::now();
    EXPECT_GT(now + std::chrono::nanoseconds::max(), now);
    EXPECT_GT(now + std::chrono::hours::max(), now);
    EXPECT_EQ(now + std::chrono::hours::max(), now + std::chrono::nanoseconds::max());
    EXPECT_EQ(now - std::chrono::hours::max(), rill::time::instant());
    EXPECT_EQ(now + std::chrono::hours::min(), rill::time::instant());
    EXPECT_EQ(now + std::chrono::milliseconds(1) - std::chrono::milliseconds(1), now);
    auto t = now;
    t += std::chrono::years::max();
    EXPECT_EQ(t, now + std::chrono::nanoseconds::max());
}

TEST(time_timeout, value_when_inner_finishes_at_the_deadline) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    bool dropped = false;
    EXPECT_EQ(rt.block_on(timeout_outcome(50ms, 50ms, &dropped)), 7);
    EXPECT_EQ(rt.block_on(timeout_outcome(1ms, 1ms, &dropped)), 7);
    auto body = []() -> rill::task<bool> {
        try {
            co_await rill::time::timeout(10ms, rill::time::sleep(10ms));
        } catch (const rill::time::elapsed&) {
            co_return false;
        }
        co_return true;
    };
    EXPECT_TRUE(rt.block_on(body()));
    EXPECT_EQ(rt.block_on(timeout_outcome(51ms, 50ms, &dropped)), -1);  // a later inner still loses
}

rill::task<bool> resume_after_paused_sleep() {
    co_await rill::time::sleep(1h);
    const auto before = rill::time::instant::now();
    rill::time::resume();
    const auto t0 = rill::time::instant::now();
    co_await rill::time::sleep(50ms);
    const auto slept = rill::time::instant::now() - t0;
    EXPECT_GE(t0, before);
    EXPECT_GE(slept, 50ms);
    EXPECT_LT(slept, 10s);
    co_return t0 >= before && slept >= 50ms;
}

TEST(time_clock, resume_continues_from_the_paused_time) {
    auto rt = rill::builder::new_current_thread().enable_all().start_paused(true).build();
    EXPECT_TRUE(rt.block_on(resume_after_paused_sleep()));
}

rill::task<void> one_sleep() { co_await rill::time::sleep(1ms); }

TEST(time_sleep, a_sleep_that_throws_holds_no_waker) {
    {  // no runtime on this thread
        rill::test::mock_task<void> t(one_sleep());
        EXPECT_THROW(t.poll(), std::logic_error);
        EXPECT_EQ(t.waker_count(), 0u);
    }
    auto rt = rill::builder::new_current_thread().build();  // time not enabled
    auto body = []() -> rill::task<int> {
        rill::test::mock_task<void> t(one_sleep());
        int threw = 0;
        try {
            t.poll();
        } catch (const std::logic_error&) {
            threw = 1;
        }
        EXPECT_EQ(t.waker_count(), 0u);
        co_return threw;
    };
    EXPECT_EQ(rt.block_on(body()), 1);
}

}  // namespace

namespace {

rill::task<int> timeout_without_time() {
    auto [tx, rx] = rill::sync::oneshot::channel<int>();  // never sent: only the timer can end it
    try {
        co_await rill::time::timeout(50ms, std::move(rx));
    } catch (const rill::time::elapsed&) {
        co_return 1;  // wrong: nothing elapsed, there is no clock to elapse
    } catch (const std::logic_error&) {
        co_return 2;
    }
    co_return 0;
}

TEST(time_timeout, without_a_time_driver_reports_the_error_not_elapsed) {
    auto rt = rill::builder::new_current_thread().build();  // time not enabled
    EXPECT_EQ(rt.block_on(timeout_without_time()), 2);
}

}  // namespace
