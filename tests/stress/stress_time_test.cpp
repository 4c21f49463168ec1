// Timers under contention: firing racing cancellation (abort, timeout, reset) across
// workers. Every task finishes exactly once, every frame is destroyed exactly once, no
// sleep ends before its deadline, and TSan sees no race.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <vector>

#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using namespace std::chrono_literals;
using rill_test::drop_counter;
using rill_test::scaled;

class time_stress : public rill_test::seeded {};

std::atomic<long> g_early{0};

rill::task<int> short_sleep(int us, drop_counter, int v) {
    const auto deadline = rill::time::instant::now() + std::chrono::microseconds(us);
    co_await rill::time::sleep_until(deadline);
    if (rill::time::instant::now() < deadline) g_early.fetch_add(1);
    co_return v;
}

// Aborts sleeping tasks at random moments around their deadlines: the abort races the
// wheel firing the timer on another worker.
rill::task<long> abort_racing_fire(int n, std::uint64_t seed, std::atomic<int>* dropped) {
    std::mt19937_64 rng(seed);
    std::vector<rill::join_handle<int>> hs;
    hs.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) hs.push_back(rill::spawn(short_sleep(static_cast<int>(rng() % 3000), drop_counter(dropped), i)));
    long outcomes = 0;
    for (int i = 0; i < n; ++i) {
        if (rng() % 2) {
            if (rng() % 4 == 0) co_await rill::time::sleep(std::chrono::microseconds(rng() % 1500));
            hs[static_cast<std::size_t>(i)].abort();
        }
    }
    for (int i = 0; i < n; ++i) {
        try {
            int v = co_await hs[static_cast<std::size_t>(i)];
            if (v != i) ADD_FAILURE() << "wrong value";
            ++outcomes;
        } catch (const rill::join_error&) {
            ++outcomes;
        }
    }
    co_return outcomes;
}

TEST_F(time_stress, abort_racing_the_timer_firing) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).enable_all().build();
    std::atomic<int> dropped{0};
    const int n = static_cast<int>(scaled(4000));
    g_early = 0;
    EXPECT_EQ(rt.block_on(abort_racing_fire(n, seed(), &dropped)), n);
    EXPECT_EQ(dropped.load(), n);
    EXPECT_EQ(g_early.load(), 0);
}

// timeout(d1, sleep(d2)) with d1 close to d2: both timers fire at about the same time on
// possibly different shards; exactly one side wins and the loser is destroyed.
rill::task<void> timeout_races(int rounds, std::uint64_t seed, std::atomic<long>* wins, std::atomic<long>* timeouts) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < rounds; ++i) {
        const auto d = std::chrono::microseconds(500 + rng() % 1500);
        const auto limit = d + std::chrono::microseconds(static_cast<long>(rng() % 1000) - 500);
        try {
            co_await rill::time::timeout(limit, rill::time::sleep(d));
            wins->fetch_add(1);
        } catch (const rill::time::elapsed&) {
            timeouts->fetch_add(1);
        }
    }
}

rill::task<void> many_timeout_racers(int tasks, int rounds, std::uint64_t seed, std::atomic<long>* wins,
                                     std::atomic<long>* timeouts) {
    std::vector<rill::join_handle<void>> hs;
    for (int t = 0; t < tasks; ++t) hs.push_back(rill::spawn(timeout_races(rounds, seed + static_cast<std::uint64_t>(t), wins, timeouts)));
    for (auto& h : hs) co_await h;
}

TEST_F(time_stress, timeout_racing_its_inner_timer) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).enable_all().build();
    std::atomic<long> wins{0}, timeouts{0};
    const int tasks = 16;
    const int rounds = static_cast<int>(scaled(200));
    rt.block_on(many_timeout_racers(tasks, rounds, seed(), &wins, &timeouts));
    EXPECT_EQ(wins.load() + timeouts.load(), static_cast<long>(tasks) * rounds);
}

// Dropping runtimes with sleeping tasks in flight: shutdown unregisters every timer.
rill::task<void> spawn_sleepers(int n, std::atomic<int>* dropped) {
    for (int i = 0; i < n; ++i) rill::spawn(short_sleep(i % 2000, drop_counter(dropped), i)).detach();
    co_await rill::time::sleep(std::chrono::microseconds(300));
}

TEST_F(time_stress, shutdown_with_timers_in_flight) {
    const int rounds = static_cast<int>(scaled(40));
    for (int r = 0; r < rounds; ++r) {
        std::atomic<int> dropped{0};
        {
            auto rt = rill::builder::new_multi_thread().worker_threads(3).enable_all().build();
            rt.block_on(spawn_sleepers(200, &dropped));
        }
        EXPECT_EQ(dropped.load(), 200);
    }
}

}  // namespace
