// broadcast and watch under races (run under TSan, replay with RILL_SEED): wakes racing
// the destruction of parked receivers, lagging broadcast receivers on other threads
// (received + skipped == sent, in order), sender drop racing receives, watch updates
// racing changed() and its destruction.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/broadcast.hpp"
#include "rill/sync/watch.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

namespace broadcast = rill::sync::broadcast;
namespace watch = rill::sync::watch;
using rill::test::make_mock;
using rill_test::scaled;

class channel_stress : public rill_test::seeded {};

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST_F(channel_stress, broadcast_send_racing_destruction_of_parked_receivers) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<broadcast::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        ASSERT_TRUE(tx->send(7).has_value());
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx1] = broadcast::channel<int>(2);
        auto rx2 = t.subscribe();
        tx.emplace(std::move(t));
        auto a = boxed(rx1.recv());
        auto b = make_mock(rx2.recv());
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
        });
        ASSERT_TRUE(b.is_woken()) << "round " << i;
        ASSERT_EQ(b.poll()->value(), 7);
        ASSERT_EQ(rx1.try_recv().value(), 7) << "round " << i << ": the destroyed recv took the message";
        tx.reset();
    }
}

TEST_F(channel_stress, broadcast_sender_drop_racing_a_parking_receiver) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<broadcast::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer dropper([&](std::uint64_t) {
        rill_test::spin(delay.load());
        tx.reset();
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = broadcast::channel<int>(2);
        tx.emplace(std::move(t));
        auto m = make_mock(rx.recv());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        bool ready = false;
        dropper.round([&](std::uint64_t) {
            rill_test::spin(mine);
            ready = m.poll().is_ready();
        });
        if (!ready) {
            ASSERT_TRUE(m.is_woken()) << "round " << i << ": lost close wake-up";
            auto r = m.poll();
            ASSERT_TRUE(r.is_ready());
            ASSERT_TRUE(r->error().is_closed());
        }
    }
}

void lagging_reader(broadcast::receiver<std::uint64_t> rx, std::uint64_t seed, std::uint64_t* received,
                    std::uint64_t* skipped, bool* ordered) {
    std::uint64_t last = 0;
    bool first = true;
    std::uint64_t x = seed | 1;
    for (;;) {
        auto r = rx.try_recv();
        if (r) {
            if (!first && *r <= last) *ordered = false;
            first = false;
            last = *r;
            ++*received;
        } else if (r.error().is_lagged()) {
            *skipped += r.error().lagged_count();
        } else if (r.error().is_closed()) {
            return;
        } else {
            std::this_thread::yield();
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rill_test::spin(x % 64);  // readers of different speeds
    }
}

TEST_F(channel_stress, lagging_broadcast_receivers_account_for_every_message) {
    const int rounds = static_cast<int>(scaled(40));
    for (int i = 0; i < rounds; ++i) {
        const std::size_t cap = rand(1, 16);
        const std::uint64_t n = rand(1, scaled(20'000));
        auto [tx, rx] = broadcast::channel<std::uint64_t>(cap);
        constexpr int readers = 3;
        std::uint64_t received[readers] = {}, skipped[readers] = {};
        bool ordered[readers] = {true, true, true};
        std::vector<std::thread> threads;
        for (int k = 0; k < readers; ++k) {
            broadcast::receiver<std::uint64_t> r = k == 0 ? std::move(rx) : tx.subscribe();
            threads.emplace_back(lagging_reader, std::move(r), rand(1, ~0ull), &received[k], &skipped[k],
                                 &ordered[k]);
        }
        for (std::uint64_t v = 0; v < n; ++v) ASSERT_TRUE(tx.send(v).has_value());
        { auto gone = std::move(tx); }
        for (auto& t : threads) t.join();
        for (int k = 0; k < readers; ++k) {
            EXPECT_TRUE(ordered[k]) << "round " << i;
            ASSERT_EQ(received[k] + skipped[k], n) << "round " << i << " reader " << k;
        }
    }
}

// Receivers in tasks, lagging and aborted at random while a thread sends.
rill::task<> lag_loop(broadcast::receiver<int> rx, std::atomic<long>* got) {
    for (;;) {
        auto r = co_await rx.recv();
        if (r) {
            got->fetch_add(1);
        } else if (r.error().is_closed()) {
            co_return;
        }
    }
}

TEST_F(channel_stress, broadcast_receiver_tasks_aborted_while_sending) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    auto [tx, rx] = broadcast::channel<int>(4);
    std::atomic<bool> stop{false};
    std::atomic<long> got{0};
    std::thread sender([&tx, &stop] {
        for (int i = 0; !stop.load(); ++i) {
            (void)tx.send(i);
            if (i % 8 == 0) std::this_thread::yield();
        }
    });
    std::vector<rill::join_handle<void>> live;
    const int rounds = static_cast<int>(scaled(2'000));
    for (int i = 0; i < rounds; ++i) {
        live.push_back(rt.spawn(lag_loop(rx.resubscribe(), &got)));
        if (live.size() > 8 || coin()) {
            const std::size_t k = rand(0, live.size() - 1);
            live[k].abort();
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
        }
        rill_test::spin(rand(0, 500));
    }
    stop = true;
    sender.join();
    { auto gone = std::move(tx); }  // the rest end with closed
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
    EXPECT_GT(got.load(), 0);
}

TEST_F(channel_stress, watch_send_racing_destruction_of_a_parked_changed) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<watch::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t r) {
        rill_test::spin(delay.load());
        ASSERT_TRUE(tx->send(static_cast<int>(r)).has_value());
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = watch::channel<int>(0);
        auto rx2 = rx;
        tx.emplace(std::move(t));
        auto a = boxed(rx.changed());
        auto b = make_mock(rx2.changed());
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
        });
        ASSERT_TRUE(b.is_woken()) << "round " << i;
        ASSERT_TRUE(b.poll()->has_value());
        ASSERT_TRUE(rx.has_changed().value()) << "round " << i << ": a destroyed changed() marked it seen";
        tx.reset();
    }
}

TEST_F(channel_stress, watch_changed_racing_updates_and_sender_drop) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<watch::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    std::atomic<bool> drop{false};
    rill_test::racer sender([&](std::uint64_t r) {
        rill_test::spin(delay.load());
        if (drop.load()) {
            tx.reset();
        } else {
            tx->send_modify([r](int& v) { v = static_cast<int>(r); });
        }
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = watch::channel<int>(0);
        tx.emplace(std::move(t));
        drop = coin();
        auto m = make_mock(rx.changed());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        bool ready = false;
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            ready = m.poll().is_ready();
        });
        if (!ready) {
            ASSERT_TRUE(m.is_woken()) << "round " << i << ": lost wake-up";
            ASSERT_TRUE(m.poll().is_ready());
        }
        tx.reset();
    }
}

TEST_F(channel_stress, watch_readers_on_threads_see_monotonic_versions) {
    auto [tx, rx] = watch::channel<std::uint64_t>(0);
    std::atomic<bool> bad{false};
    std::vector<std::thread> readers;
    for (int k = 0; k < 2; ++k) {
        readers.emplace_back([rx = rx, &bad]() mutable {
            std::uint64_t last = 0;
            for (;;) {
                auto c = rx.has_changed();
                if (!c) return;
                if (*c) {
                    auto g = rx.borrow_and_update();
                    if (*g < last) bad = true;
                    last = *g;
                }
            }
        });
    }
    const std::uint64_t n = scaled(200'000);
    for (std::uint64_t i = 1; i <= n; ++i) tx.send_replace(i);
    { auto gone = std::move(tx); }
    for (auto& t : readers) t.join();
    EXPECT_FALSE(bad.load());
    EXPECT_EQ(*rx.borrow(), n);
}

}  // namespace
