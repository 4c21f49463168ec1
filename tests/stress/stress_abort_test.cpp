// abort() and dropping a join handle, racing the task's own completion: every outcome is
// either the value or a cancelled join_error, every frame is destroyed exactly once, and
// every exception nobody awaited is reported exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::drop_counter;
using rill_test::scaled;

class abort_stress : public rill_test::seeded {};

rill::task<int> maybe_yield(int yields, drop_counter, int v) {
    for (int i = 0; i < yields; ++i) co_await rill::yield_now();
    co_return v;
}

struct tally {
    long values = 0;
    long cancelled = 0;
};

rill::task<tally> abort_from_the_joining_task(int rounds, std::uint64_t seed, std::atomic<int>* dropped) {
    std::mt19937_64 rng(seed);
    tally t;
    for (int i = 0; i < rounds; ++i) {
        auto h = rill::spawn(maybe_yield(static_cast<int>(rng() % 4), drop_counter(dropped), i));
        const int before = static_cast<int>(rng() % 4);
        for (int k = 0; k < before; ++k) co_await rill::yield_now();
        h.abort();
        try {
            const int v = co_await h;
            if (v != i) ADD_FAILURE() << "wrong value " << v << " for " << i;
            ++t.values;
        } catch (const rill::join_error& e) {
            if (!e.is_cancelled()) ADD_FAILURE() << "join_error that is not a cancellation";
            ++t.cancelled;
        }
    }
    co_return t;
}

TEST_F(abort_stress, abort_racing_completion_from_a_task) {
    for (auto fl : {rill::flavor::multi_thread, rill::flavor::current_thread}) {
        auto rt = rill_test::make_rt(fl);
        std::atomic<int> dropped{0};
        const int rounds = static_cast<int>(scaled(20'000));
        tally t = rt.block_on(abort_from_the_joining_task(rounds, seed() + static_cast<int>(fl), &dropped));
        EXPECT_EQ(t.values + t.cancelled, rounds);
        EXPECT_EQ(dropped.load(), rounds) << rill_test::flavor_name(fl);
        if (fl == rill::flavor::current_thread) {
            EXPECT_GT(t.cancelled, 0);
        }
    }
}

rill::task<tally> join_all_outcomes(std::vector<rill::join_handle<int>> hs) {
    tally t;
    for (std::size_t i = 0; i < hs.size(); ++i) {
        try {
            const int v = co_await hs[i];
            if (v != static_cast<int>(i)) ADD_FAILURE() << "wrong value";
            ++t.values;
        } catch (const rill::join_error& e) {
            if (!e.is_cancelled()) ADD_FAILURE() << "not cancelled";
            ++t.cancelled;
        }
    }
    co_return t;
}

TEST_F(abort_stress, abort_from_another_thread_racing_completion) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    std::atomic<int> dropped{0};
    const int rounds = static_cast<int>(scaled(20'000));
    std::vector<rill::join_handle<int>> hs;
    hs.reserve(static_cast<std::size_t>(rounds));
    for (int i = 0; i < rounds; ++i) {
        hs.push_back(rt.spawn(maybe_yield(static_cast<int>(rand(0, 3)), drop_counter(&dropped), i)));
        rill_test::spin(rand(0, 200));
        hs.back().abort();
    }
    tally t = rt.block_on(join_all_outcomes(std::move(hs)));
    EXPECT_EQ(t.values + t.cancelled, rounds);
    EXPECT_EQ(dropped.load(), rounds);
}

TEST_F(abort_stress, abort_and_join_on_different_threads) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).build();
    rill::abort_handle shared;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer aborter([&](std::uint64_t) {
        rill_test::spin(delay.load());
        shared.abort();
    });
    std::atomic<int> dropped{0};
    tally t;
    const int rounds = static_cast<int>(scaled(5'000));
    for (int i = 0; i < rounds; ++i) {
        auto h = rt.spawn(maybe_yield(static_cast<int>(rand(0, 2)), drop_counter(&dropped), i));
        shared = h.get_abort_handle();
        delay = rand(0, 500);
        aborter.round([&](std::uint64_t) {
            // This thread waits for the outcome while the helper aborts.
            try {
                const int v = rt.block_on([](rill::join_handle<int>* j) -> rill::task<int> { co_return co_await *j; }(&h));
                EXPECT_EQ(v, i);
                ++t.values;
            } catch (const rill::join_error& e) {
                EXPECT_TRUE(e.is_cancelled());
                ++t.cancelled;
            }
        });
    }
    EXPECT_EQ(t.values + t.cancelled, rounds);
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == rounds; }));
}

// --- dropping the handle while the task completes ------------------------------------------

rill::task<int> finish_or_throw(int yields, bool fail, drop_counter) {
    for (int i = 0; i < yields; ++i) co_await rill::yield_now();
    if (fail) throw std::runtime_error("nobody is listening");
    co_return 1;
}

TEST_F(abort_stress, handle_dropped_racing_completion) {
    std::atomic<long> reports{0};
    auto rt = rill::builder::new_multi_thread()
                  .worker_threads(4)
                  .on_unhandled_exception([&reports](const rill::task_failure&) { reports.fetch_add(1); })
                  .build();
    std::atomic<int> dropped{0};
    long failing = 0;
    const int rounds = static_cast<int>(scaled(20'000));
    for (int i = 0; i < rounds; ++i) {
        const bool fail = coin();
        failing += fail;
        auto h = rt.spawn(finish_or_throw(static_cast<int>(rand(0, 2)), fail, drop_counter(&dropped)));
        rill_test::spin(rand(0, 300));
        // The handle goes away while the task may be running, completing or done.
    }
    ASSERT_TRUE(rill_test::wait_until([&] { return dropped.load() == rounds; }));
    EXPECT_TRUE(rill_test::wait_until([&] { return reports.load() == failing; }))
        << "reports " << reports.load() << " of " << failing << " failures nobody awaited";
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
    EXPECT_EQ(reports.load(), failing) << "an exception was reported twice";
}

TEST_F(abort_stress, abort_then_drop_racing_completion) {
    // abort() and then dropping the handle, at random moments of the task's run.
    auto rt = rill::builder::new_multi_thread().worker_threads(3).build();
    std::atomic<int> dropped{0};
    const int rounds = static_cast<int>(scaled(20'000));
    for (int i = 0; i < rounds; ++i) {
        auto h = rt.spawn(maybe_yield(static_cast<int>(rand(0, 2)), drop_counter(&dropped), i));
        rill_test::spin(rand(0, 300));
        h.abort();
        rill_test::spin(rand(0, 300));
    }
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == rounds; }));
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
}

TEST_F(abort_stress, abort_handle_racing_drop_racing_completion) {
    // One thread aborts through an abort_handle while another drops the join handle and
    // the task runs to its end on a worker.
    auto rt = rill::builder::new_multi_thread().worker_threads(2).build();
    std::atomic<int> dropped{0};
    rill::abort_handle ah;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer aborter([&](std::uint64_t) {
        rill_test::spin(delay.load());
        ah.abort();
        ah = rill::abort_handle();  // the last reference may go here, too
    });
    const int rounds = static_cast<int>(scaled(10'000));
    for (int i = 0; i < rounds; ++i) {
        auto h = std::make_unique<rill::join_handle<int>>(
            rt.spawn(maybe_yield(static_cast<int>(rand(0, 2)), drop_counter(&dropped), i)));
        ah = h->get_abort_handle();
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        aborter.round([&](std::uint64_t) {
            rill_test::spin(mine);
            h.reset();
        });
    }
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == rounds; }));
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
}

rill::task<void> wait_notified(rill::sync::notify* n, drop_counter) { co_await n->notified(); }

TEST_F(abort_stress, abort_racing_a_wake) {
    auto rt = rill::builder::new_multi_thread().worker_threads(3).build();
    std::atomic<int> dropped{0};
    const int rounds = static_cast<int>(scaled(10'000));
    auto n = std::make_unique<rill::sync::notify>();
    rill::join_handle<void>* cur = nullptr;
    rill_test::racer waker([&](std::uint64_t r) {
        rill_test::spin((r * 104729) % 300);
        n->notify_one();
    });
    for (int i = 0; i < rounds; ++i) {
        auto h = rt.spawn(wait_notified(n.get(), drop_counter(&dropped)));
        cur = &h;
        const std::uint64_t d = rand(0, 300);
        waker.round([&](std::uint64_t) {
            rill_test::spin(d);
            cur->abort();
        });
        try {
            rt.block_on([](rill::join_handle<void>* j) -> rill::task<void> { co_await *j; }(&h));
        } catch (const rill::join_error&) {
        }
        // A notification that found no waiter is a stored permit: clear it for the next round.
        n = std::make_unique<rill::sync::notify>();
    }
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == rounds; }));
}

}  // namespace
