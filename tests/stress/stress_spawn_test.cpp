// Spawn storms and work stealing: tasks spawned from many threads at once, and from one
// task onto a 4-worker pool, all run exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::scaled;

class spawn_stress : public rill_test::seeded {};

rill::task<long> tiny(long v, int yields, std::atomic<long>* ran) {
    for (int i = 0; i < yields; ++i) co_await rill::yield_now();
    ran->fetch_add(1, std::memory_order_relaxed);
    co_return v;
}

rill::task<long> join_all(std::vector<rill::join_handle<long>> hs) {
    long sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
}

TEST_F(spawn_stress, storm_from_four_threads_through_a_handle) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    auto handle = rt.get_handle();
    const long per_thread = static_cast<long>(scaled(20'000));
    std::atomic<long> ran{0};
    std::vector<long> sums(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        const std::uint64_t thread_seed = rand(0, ~0ull);
        threads.emplace_back([&, t, thread_seed] {
            std::mt19937_64 rng(thread_seed);
            std::vector<rill::join_handle<long>> hs;
            hs.reserve(static_cast<std::size_t>(per_thread));
            for (long i = 0; i < per_thread; ++i)
                hs.push_back(handle.spawn(tiny(i, static_cast<int>(rng() % 3), &ran)));
            sums[t] = handle.block_on(join_all(std::move(hs)));
        });
    }
    for (auto& th : threads) th.join();
    for (long s : sums) EXPECT_EQ(s, per_thread * (per_thread - 1) / 2);
    EXPECT_EQ(ran.load(), 4 * per_thread);
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
}

rill::task<void> count_and_signal(std::atomic<long>* ran, long total, rill::sync::notify* all_done, int yields) {
    for (int i = 0; i < yields; ++i) co_await rill::yield_now();
    if (ran->fetch_add(1) + 1 == total) all_done->notify_one();
}

rill::task<void> wait_all(std::atomic<long>* ran, long total, rill::sync::notify* all_done) {
    while (ran->load() < total) co_await all_done->notified();
}

TEST_F(spawn_stress, storm_from_four_threads_into_current_thread) {
    auto rt = rill::builder::new_current_thread().build();
    auto handle = rt.get_handle();
    const long per_thread = static_cast<long>(scaled(20'000));
    const long total = 4 * per_thread;
    std::atomic<long> ran{0};
    rill::sync::notify all_done;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        const std::uint64_t thread_seed = rand(0, ~0ull);
        threads.emplace_back([&, thread_seed] {
            std::mt19937_64 rng(thread_seed);
            for (long i = 0; i < per_thread; ++i)
                handle.spawn(count_and_signal(&ran, total, &all_done, static_cast<int>(rng() % 3))).detach();
        });
    }
    // The main thread drives the runtime while the others are still spawning.
    rt.block_on(wait_all(&ran, total, &all_done));
    for (auto& th : threads) th.join();
    EXPECT_EQ(ran.load(), total);
}

struct hit_board {
    explicit hit_board(std::size_t n) : hits(new std::atomic<int>[n]), size(n) {
        for (std::size_t i = 0; i < n; ++i) hits[i].store(0, std::memory_order_relaxed);
    }
    std::unique_ptr<std::atomic<int>[]> hits;
    std::size_t size;
    std::atomic<long> total{0};
};

rill::task<void> hit(hit_board* b, std::size_t i) {
    b->hits[i].fetch_add(1, std::memory_order_relaxed);
    b->total.fetch_add(1, std::memory_order_release);  // publishes the hit to the checker
    co_return;
}

rill::task<void> spawn_all_from_one_task(hit_board* b) {
    for (std::size_t i = 0; i < b->size; ++i) rill::spawn(hit(b, i)).detach();
    while (b->total.load() < static_cast<long>(b->size)) co_await rill::yield_now();
}

TEST_F(spawn_stress, steal_racing_pop_runs_each_task_exactly_once) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    for (int round = 0; round < 3; ++round) {
        hit_board b(scaled(100'000));
        rt.block_on(spawn_all_from_one_task(&b));
        long bad = 0;
        for (std::size_t i = 0; i < b.size; ++i)
            if (b.hits[i].load() != 1) ++bad;
        EXPECT_EQ(bad, 0) << "tasks that ran zero or several times, round " << round;
        EXPECT_EQ(b.total.load(), static_cast<long>(b.size));
    }
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
}

rill::task<long> fan_out(int depth, int width, hit_board* b, std::atomic<std::size_t>* next) {
    if (depth == 0) {
        const std::size_t i = next->fetch_add(1);
        if (i < b->size) co_await hit(b, i);
        co_return 1;
    }
    std::vector<rill::join_handle<long>> hs;
    for (int i = 0; i < width; ++i) hs.push_back(rill::spawn(fan_out(depth - 1, width, b, next)));
    long leaves = 0;
    for (auto& h : hs) leaves += co_await h;
    co_return leaves;
}

TEST_F(spawn_stress, recursive_fan_out_across_workers) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    const int depth = rill_test::tsan ? 4 : 5;
    const int width = 8;
    long expected = 1;
    for (int i = 0; i < depth; ++i) expected *= width;
    hit_board b(static_cast<std::size_t>(expected));
    std::atomic<std::size_t> next{0};
    EXPECT_EQ(rt.block_on(fan_out(depth, width, &b, &next)), expected);
    for (std::size_t i = 0; i < b.size; ++i) ASSERT_EQ(b.hits[i].load(), 1) << i;
}

}  // namespace
