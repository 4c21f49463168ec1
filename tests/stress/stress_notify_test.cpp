// notify_one / notify_waiters racing the destruction of waiters: a notification chosen
// for a waiter that is destroyed goes on to the next one, notify_waiters reaches everyone
// that existed, and nothing touches a destroyed waiter.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

using rill::test::make_mock;
using rill_test::scaled;

class notify_stress : public rill_test::seeded {};

using waiter_mock = rill::test::mock_task<void>;

/// A heap mock, so that a test can destroy it at a moment of its choosing.
std::unique_ptr<waiter_mock> boxed(rill::sync::notified n) {
    return std::unique_ptr<waiter_mock>(new waiter_mock(make_mock(std::move(n))));
}

TEST_F(notify_stress, notify_one_racing_destruction_of_the_first_waiter_reaches_the_second) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::notify> n;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer notifier([&](std::uint64_t) {
        rill_test::spin(delay.load());
        n->notify_one();
    });
    for (int i = 0; i < rounds; ++i) {
        n = std::make_unique<rill::sync::notify>();
        auto a = boxed(n->notified());
        waiter_mock b = make_mock(n->notified());
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        notifier.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();  // destroyed before (or after) it was chosen; never consumes
        });
        // Exactly one notification, and the only waiter left that can take it is b.
        ASSERT_TRUE(b.is_woken()) << "round " << i << ": the notification was lost";
        ASSERT_TRUE(b.poll().is_ready());
        auto c = make_mock(n->notified());
        ASSERT_TRUE(c.poll().is_pending()) << "round " << i << ": a notification was duplicated";
    }
}

TEST_F(notify_stress, notify_waiters_racing_destruction) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::notify> n;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer notifier([&](std::uint64_t) {
        rill_test::spin(delay.load());
        n->notify_waiters();
    });
    for (int i = 0; i < rounds; ++i) {
        n = std::make_unique<rill::sync::notify>();
        auto a = boxed(n->notified());
        waiter_mock b = make_mock(n->notified());
        auto unpolled = n->notified();  // exists before notify_waiters: covered as well
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        notifier.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
        });
        ASSERT_TRUE(b.is_woken()) << "round " << i;
        ASSERT_TRUE(b.poll().is_ready());
        auto u = make_mock(std::move(unpolled));
        ASSERT_TRUE(u.poll().is_ready()) << "round " << i;
        auto c = make_mock(n->notified());
        ASSERT_TRUE(c.poll().is_pending()) << "notify_waiters stored a permit";
    }
}

TEST_F(notify_stress, notify_one_racing_poll_and_destroy) {
    // The waiter is being polled (registering) or destroyed while notify_one runs.
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::notify> n;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer notifier([&](std::uint64_t) {
        rill_test::spin(delay.load());
        n->notify_one();
    });
    long consumed = 0;
    for (int i = 0; i < rounds; ++i) {
        n = std::make_unique<rill::sync::notify>();
        const bool destroy = coin();
        delay = rand(0, 300);
        auto a = boxed(n->notified());
        notifier.round([&](std::uint64_t) {
            if (a->poll().is_ready()) {
                ++consumed;
                a.reset();
            } else if (destroy) {
                a.reset();
            }
        });
        // Afterwards the one notification is somewhere: consumed, held by `a` (woken), or
        // stored as the permit. Never in two places, never lost.
        int found = 0;
        if (a && a->is_woken()) {
            ASSERT_TRUE(a->poll().is_ready());
            ++found;
        }
        a.reset();
        auto probe = make_mock(n->notified());
        if (probe.poll().is_ready()) ++found;
        if (consumed > 0) {
            ++found;
            consumed = 0;
        }
        ASSERT_EQ(found, 1) << "round " << i;
    }
}

// --- tasks in a runtime, aborted while notifications fly ------------------------------------

rill::task<void> wait_loop(rill::sync::notify* n, std::atomic<long>* woke) {
    for (;;) {
        co_await n->notified();
        woke->fetch_add(1);
    }
}

rill::task<int> final_wait(rill::sync::notify* n) {
    co_await n->notified();
    co_return 1;
}

TEST_F(notify_stress, waiters_aborted_while_notifiers_run) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    rill::sync::notify n;
    std::atomic<long> woke{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> notifiers;
    for (int t = 0; t < 2; ++t) {
        notifiers.emplace_back([&n, &stop, t] {
            while (!stop.load()) {
                if (t == 0) {
                    n.notify_one();
                } else {
                    n.notify_waiters();
                }
                std::this_thread::yield();
            }
        });
    }
    const int rounds = static_cast<int>(scaled(4'000));
    std::vector<rill::join_handle<void>> live;
    for (int i = 0; i < rounds; ++i) {
        live.push_back(rt.spawn(wait_loop(&n, &woke)));
        if (live.size() > 8 || coin()) {
            const std::size_t k = rand(0, live.size() - 1);
            live[k].abort();
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
        }
        rill_test::spin(rand(0, 500));
    }
    for (auto& h : live) h.abort();
    live.clear();
    stop = true;
    for (auto& t : notifiers) t.join();
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
    // The notify still works after all that.
    auto h = rt.spawn(final_wait(&n));
    n.notify_one();
    EXPECT_EQ(rt.block_on([](rill::join_handle<int> j) -> rill::task<int> { co_return co_await j; }(std::move(h))), 1);
    EXPECT_GT(woke.load(), 0);
}

}  // namespace
