// Wakes from other threads racing branch destruction in select, join, futures_unordered
// and by-reference relays; join_set abort racing completion.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::scaled;
namespace fut = rill::future;
using oneshot_tx = rill::sync::oneshot::sender<int>;
using oneshot_rx = rill::sync::oneshot::receiver<int>;

class future_stress : public rill_test::seeded {};

rill::task<int> recv(oneshot_rx rx) { co_return co_await std::move(rx); }

// Three receivers in a select; the racer sends on two of them while the owner polls:
// the first branch to run wins, the other is destroyed while its wake may be landing.
rill::task<int> select3(oneshot_rx a, oneshot_rx b, oneshot_rx c) {
    auto r = co_await fut::select(recv(std::move(a)), recv(std::move(b)), recv(std::move(c)));
    co_return static_cast<int>(r.index()) * 100 + std::visit([](int v) { return v; }, r.as_variant());
}

TEST_F(future_stress, select_wakes_race_loser_destruction) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::vector<oneshot_tx> txs(3);
    std::atomic<std::uint64_t> delay{0};
    std::atomic<int> pick{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        int p = pick.load();
        (void)txs[p].send(p);
        (void)txs[(p + 1) % 3].send((p + 1) % 3);
    });
    for (int i = 0; i < rounds; ++i) {
        std::vector<oneshot_rx> rxs;
        for (int k = 0; k < 3; ++k) {
            auto [tx, rx] = rill::sync::oneshot::channel<int>();
            txs[k] = std::move(tx);
            rxs.push_back(std::move(rx));
        }
        auto t = rill::test::mock_task(select3(std::move(rxs[0]), std::move(rxs[1]), std::move(rxs[2])));
        ASSERT_TRUE(t.poll().is_pending());
        delay = rand(0, 400);
        pick = static_cast<int>(rand(0, 2));
        const std::uint64_t mine = rand(0, 400);
        std::optional<int> got;
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            auto p = t.poll();  // may run a woken branch, finish the select, destroy losers
            if (p.is_ready()) got = *p;
        });
        if (!got) {
            ASSERT_TRUE(t.is_woken()) << "round " << i;
            auto p = t.poll();
            ASSERT_TRUE(p.is_ready()) << "round " << i;
            got = *p;
        }
        const int idx = *got / 100, v = *got % 100;
        ASSERT_EQ(idx, v);
        ASSERT_TRUE(idx == pick.load() || idx == (pick.load() + 1) % 3) << "round " << i;
        ASSERT_EQ(t.waker_count(), 0u) << "round " << i << ": a registration leaked";
    }
}

rill::task<int> join2(oneshot_rx a, oneshot_rx b) {
    auto [x, y] = co_await fut::join(recv(std::move(a)), recv(std::move(b)));
    co_return x + y;
}

TEST_F(future_stress, join_wakes_from_another_thread) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::vector<oneshot_tx> txs(2);
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        (void)txs[0].send(1);
        (void)txs[1].send(2);
    });
    for (int i = 0; i < rounds; ++i) {
        std::vector<oneshot_rx> rxs;
        for (int k = 0; k < 2; ++k) {
            auto [tx, rx] = rill::sync::oneshot::channel<int>();
            txs[k] = std::move(tx);
            rxs.push_back(std::move(rx));
        }
        auto t = rill::test::mock_task(join2(std::move(rxs[0]), std::move(rxs[1])));
        ASSERT_TRUE(t.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        const bool destroy = coin();
        std::optional<int> got;
        auto* tp = &t;
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            if (destroy) return;  // destroyed after the round, maybe between the two wakes
            auto p = tp->poll();
            if (p.is_ready()) got = *p;
        });
        if (destroy) continue;  // t's destructor withdraws whatever is still registered
        for (int k = 0; k < 3 && !got; ++k) {
            auto p = t.poll();
            if (p.is_ready()) got = *p;
        }
        ASSERT_TRUE(got.has_value()) << "round " << i;
        ASSERT_EQ(*got, 3);
    }
}

rill::task<long> drain_some(fut::futures_unordered<int>* set, int take) {
    long sum = 0;
    for (int k = 0; k < take; ++k) {
        std::optional<int> v = co_await set->next();
        if (!v) break;
        sum += *v;
    }
    co_return sum;
}

// A set of receivers woken from another thread in random order, drained partly, then
// destroyed while wakes are still landing.
TEST_F(future_stress, futures_unordered_wakes_race_set_destruction) {
    const int rounds = static_cast<int>(scaled(4'000));
    constexpr int n = 16;
    std::vector<oneshot_tx> txs(n);
    std::vector<int> order(n);
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        for (int k : order) (void)txs[k].send(k);
    });
    for (int i = 0; i < rounds; ++i) {
        auto set = std::make_unique<fut::futures_unordered<int>>();
        for (int k = 0; k < n; ++k) {
            auto [tx, rx] = rill::sync::oneshot::channel<int>();
            txs[k] = std::move(tx);
            set->push(recv(std::move(rx)));
        }
        for (int k = 0; k < n; ++k) order[k] = k;
        for (int k = n - 1; k > 0; --k) std::swap(order[k], order[rand(0, k)]);
        const int take = static_cast<int>(rand(0, n));
        auto t = std::make_unique<rill::test::mock_task<long>>(drain_some(set.get(), take));
        ASSERT_TRUE(t->poll().is_pending() || take == 0);
        delay = rand(0, 500);
        const std::uint64_t mine = rand(0, 500);
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            if (!t->is_complete()) (void)t->poll();
            t.reset();    // the drain, maybe mid-next
            set.reset();  // every member, some registered, some woken, some queued
        });
    }
}

// A by-reference task (relay) abandoned and re-attached across selects while its wake
// arrives from another thread.
rill::task<int> recv_plus(oneshot_rx* rx) { co_return co_await *rx + 1; }

rill::task<int> reuse_loop(oneshot_rx* slow, oneshot_rx* fast) {
    auto op = recv_plus(slow);
    int misses = 0;
    for (;;) {
        auto r = co_await fut::select(op, recv(std::move(*fast)));
        if (r.index() == 0) co_return r.get<0>() * 1000 + misses;
        ++misses;
        // fast is consumed now: wait for op alone, by reference, next time round
        auto r2 = co_await fut::select(op, rill::time::sleep(std::chrono::hours(1)));
        co_return r2.get<0>() * 1000 + misses;
    }
}

TEST_F(future_stress, relay_wake_races_detach_and_reattach) {
    auto rt = rill::builder::new_current_thread().enable_all().build();  // time for the sleep
    const int rounds = static_cast<int>(scaled(5'000));
    oneshot_tx slow_tx, fast_tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        (void)slow_tx.send(41);
    });
    for (int i = 0; i < rounds; ++i) {
        auto [stx, srx] = rill::sync::oneshot::channel<int>();
        auto [ftx, frx] = rill::sync::oneshot::channel<int>();
        slow_tx = std::move(stx);
        fast_tx = std::move(ftx);
        delay = rand(0, 2000);
        const bool fast_first = coin();
        int result = 0;
        sender.round([&](std::uint64_t) {
            if (fast_first) (void)fast_tx.send(0);
            result = rt.block_on(reuse_loop(&srx, &frx));
        });
        ASSERT_EQ(result / 1000, 42) << "round " << i;
    }
}

// join_set: abort_all racing the tasks' completion on a multi-thread runtime. Every task
// comes out of join_next exactly once, as a value or as join_error.
rill::task<int> quick(int v, std::uint64_t spin_for) {
    rill_test::spin(spin_for);
    co_return v;
}

rill::task<std::pair<int, int>> abort_race(int n, std::uint64_t seed) {
    fut::join_set<int> set;
    std::uint64_t x = seed | 1;
    auto next = [&x] {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        return x * 0x2545F4914F6CDD1Dull;
    };
    for (int i = 0; i < n; ++i) set.spawn(quick(i, next() % 2000));
    rill_test::spin(next() % 3000);
    set.abort_all();
    int values = 0, cancelled = 0;
    while (!set.empty()) {
        try {
            std::optional<int> v = co_await set.join_next();
            if (v) ++values;
        } catch (const rill::join_error& e) {
            if (e.is_cancelled()) ++cancelled;
        }
    }
    co_return std::pair<int, int>(values, cancelled);
}

TEST_F(future_stress, join_set_abort_races_completion) {
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 2);
    const int rounds = static_cast<int>(scaled(2'000));
    for (int i = 0; i < rounds; ++i) {
        auto [values, cancelled] = rt.block_on(abort_race(8, rand(1, ~0ull)));
        ASSERT_EQ(values + cancelled, 8) << "round " << i;
    }
}

// Dropping a join_set while its tasks complete on other workers.
rill::task<void> drop_set_race(std::uint64_t seed) {
    fut::join_set<int> set;
    for (int i = 0; i < 8; ++i) set.spawn(quick(i, (seed >> (i * 4)) % 2000));
    rill_test::spin(seed % 3000);
    co_return;  // set destroyed here: aborts what still runs
}

TEST_F(future_stress, join_set_drop_races_completion) {
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 2);
    const int rounds = static_cast<int>(scaled(2'000));
    for (int i = 0; i < rounds; ++i) rt.block_on(drop_set_race(rand(1, ~0ull)));
}

}  // namespace
