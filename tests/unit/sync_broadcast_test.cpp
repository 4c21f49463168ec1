// rill::sync::broadcast: every receiver gets every message (Tokio's broadcast).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/broadcast.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

namespace broadcast = rill::sync::broadcast;
using rill::test::make_mock;

TEST(broadcast, every_receiver_gets_every_message) {
    auto [tx, rx1] = broadcast::channel<int>(4);
    auto rx2 = tx.subscribe();
    EXPECT_EQ(tx.receiver_count(), 2u);
    EXPECT_EQ(tx.send(1).value(), 2u);
    EXPECT_EQ(tx.send(2).value(), 2u);
    for (auto* rx : {&rx1, &rx2}) {
        auto a = make_mock(rx->recv());
        EXPECT_EQ(a.poll()->value(), 1);
        auto b = make_mock(rx->recv());
        EXPECT_EQ(b.poll()->value(), 2);
        EXPECT_TRUE(rx->try_recv().error().is_empty());
    }
}

TEST(broadcast, subscriber_sees_only_later_messages) {
    auto [tx, rx] = broadcast::channel<int>(4);
    ASSERT_TRUE(tx.send(1).has_value());
    auto late = tx.subscribe();
    ASSERT_TRUE(tx.send(2).has_value());
    EXPECT_EQ(late.try_recv().value(), 2);
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(rx.try_recv().value(), 2);
}

TEST(broadcast, recv_waits_and_every_waiting_receiver_is_woken) {
    auto [tx, rx1] = broadcast::channel<std::string>(2);
    auto rx2 = tx.subscribe();
    auto a = make_mock(rx1.recv());
    auto b = make_mock(rx2.recv());
    ASSERT_TRUE(a.poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    EXPECT_EQ(a.waker_count(), 1u);
    ASSERT_TRUE(tx.send("x").has_value());
    EXPECT_TRUE(a.is_woken());
    EXPECT_TRUE(b.is_woken());
    EXPECT_EQ(a.poll()->value(), "x");
    EXPECT_EQ(b.poll()->value(), "x");
}

TEST(broadcast, slow_receiver_gets_lagged_then_continues_from_the_oldest_kept) {
    auto [tx, rx] = broadcast::channel<int>(2);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.send(i).has_value());  // keeps 3 and 4
    auto m = make_mock(rx.recv());
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    ASSERT_FALSE(r->has_value());
    EXPECT_TRUE(r->error().is_lagged());
    EXPECT_EQ(r->error().lagged_count(), 3u);
    EXPECT_EQ(rx.try_recv().value(), 3);
    EXPECT_EQ(rx.try_recv().value(), 4);
    EXPECT_TRUE(rx.try_recv().error().is_empty());
}

TEST(broadcast, try_recv_reports_lagged) {
    auto [tx, rx] = broadcast::channel<int>(1);
    ASSERT_TRUE(tx.send(1).has_value());
    ASSERT_TRUE(tx.send(2).has_value());
    auto e = rx.try_recv();
    ASSERT_FALSE(e.has_value());
    EXPECT_TRUE(e.error().is_lagged());
    EXPECT_EQ(e.error().lagged_count(), 1u);
    EXPECT_EQ(rx.try_recv().value(), 2);
}

TEST(broadcast, capacity_rounds_up_to_a_power_of_two) {
    auto [tx, rx] = broadcast::channel<int>(3);  // 4 slots
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(tx.send(i).has_value());
    EXPECT_EQ(rx.try_recv().value(), 0);  // nothing lost yet
    EXPECT_EQ(rx.len(), 3u);
}

TEST(broadcast, closed_after_the_last_sender_drops_and_messages_drain) {
    auto [tx, rx] = broadcast::channel<int>(4);
    auto tx2 = tx;
    ASSERT_TRUE(tx.send(1).has_value());
    { auto gone = std::move(tx); }
    auto w = make_mock(rx.recv());
    EXPECT_EQ(w.poll()->value(), 1);
    auto parked = make_mock(rx.recv());
    ASSERT_TRUE(parked.poll().is_pending());
    { auto gone = std::move(tx2); }
    EXPECT_TRUE(parked.is_woken());
    auto r = parked.poll();
    ASSERT_FALSE(r->has_value());
    EXPECT_TRUE(r->error().is_closed());
    EXPECT_TRUE(rx.try_recv().error().is_closed());
}

TEST(broadcast, send_without_receivers_hands_the_value_back) {
    auto [tx, rx] = broadcast::channel<std::string>(2);
    { auto gone = std::move(rx); }
    EXPECT_EQ(tx.receiver_count(), 0u);
    auto r = tx.send("lost?");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value, "lost?");
    auto again = tx.subscribe();
    EXPECT_TRUE(tx.send("kept").has_value());
    EXPECT_EQ(again.try_recv().value(), "kept");
}

TEST(broadcast, resubscribe_starts_at_the_tail) {
    auto [tx, rx] = broadcast::channel<int>(4);
    ASSERT_TRUE(tx.send(1).has_value());
    auto rx2 = rx.resubscribe();
    EXPECT_TRUE(rx2.try_recv().error().is_empty());
    ASSERT_TRUE(tx.send(2).has_value());
    EXPECT_EQ(rx2.try_recv().value(), 2);
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(rx.receiver_count(), 2u);
}

TEST(broadcast, len_counts_unseen_messages) {
    auto [tx, rx1] = broadcast::channel<int>(8);
    auto rx2 = tx.subscribe();
    ASSERT_TRUE(tx.send(1).has_value());
    ASSERT_TRUE(tx.send(2).has_value());
    EXPECT_EQ(tx.len(), 2u);
    EXPECT_EQ(rx1.len(), 2u);
    EXPECT_EQ(rx1.try_recv().value(), 1);
    EXPECT_EQ(rx1.len(), 1u);
    EXPECT_EQ(tx.len(), 2u);  // rx2 has seen neither
    EXPECT_EQ(rx2.try_recv().value(), 1);
    EXPECT_EQ(tx.len(), 1u);
    { auto gone = std::move(rx2); }  // no longer holds message 2
    EXPECT_EQ(tx.len(), 1u);         // rx1 still needs it
    EXPECT_EQ(rx1.try_recv().value(), 2);
    EXPECT_TRUE(tx.is_empty());
}

TEST(broadcast, values_are_destroyed_once_every_receiver_read_them) {
    auto [tx, rx1] = broadcast::channel<std::shared_ptr<int>>(4);
    auto rx2 = tx.subscribe();
    auto p = std::make_shared<int>(1);
    ASSERT_TRUE(tx.send(p).has_value());
    EXPECT_EQ(p.use_count(), 2);
    { auto v = rx1.try_recv().value(); }
    EXPECT_EQ(p.use_count(), 2);  // rx2 has not read it
    { auto v = rx2.try_recv().value(); }
    EXPECT_EQ(p.use_count(), 1);
    ASSERT_TRUE(tx.send(p).has_value());
    { auto gone = std::move(rx1); }
    { auto gone = std::move(rx2); }
    EXPECT_EQ(p.use_count(), 1);  // dropping the receivers released it
}

TEST(broadcast, destroyed_recv_withdraws_and_loses_nothing) {
    auto [tx, rx] = broadcast::channel<int>(2);
    {
        auto m = make_mock(rx.recv());
        ASSERT_TRUE(m.poll().is_pending());
        ASSERT_TRUE(tx.send(5).has_value());
        EXPECT_TRUE(m.is_woken());
    }
    EXPECT_EQ(rx.try_recv().value(), 5);
    {
        auto m = make_mock(rx.recv());
        ASSERT_TRUE(m.poll().is_pending());
    }
    ASSERT_TRUE(tx.send(6).has_value());  // touches no freed waiter
    EXPECT_EQ(rx.try_recv().value(), 6);
}

TEST(broadcast, zero_capacity_is_rejected) {
    EXPECT_THROW((void)broadcast::channel<int>(0), std::invalid_argument);
}

TEST(broadcast, empty_handles_fail_cleanly) {
    broadcast::sender<int> tx;
    broadcast::receiver<int> rx;
    EXPECT_THROW((void)tx.send(1), std::logic_error);
    EXPECT_THROW((void)tx.subscribe(), std::logic_error);
    EXPECT_THROW((void)rx.recv(), std::logic_error);
    EXPECT_THROW((void)rx.try_recv(), std::logic_error);
}

class broadcast_rt : public rill_test::both_flavors {};
RILL_BOTH_FLAVORS(broadcast_rt);

rill::task<std::uint64_t> sum_all(broadcast::receiver<std::uint64_t> rx) {
    std::uint64_t sum = 0;
    for (;;) {
        auto r = co_await rx.recv();
        if (r) {
            sum += *r;
        } else if (r.error().is_closed()) {
            co_return sum;
        }
    }
}

rill::task<std::uint64_t> fan_out(std::uint64_t n) {
    auto [tx, rx] = broadcast::channel<std::uint64_t>(static_cast<std::size_t>(n));  // no lag
    auto a = rill::spawn(sum_all(tx.subscribe()));
    auto b = rill::spawn(sum_all(std::move(rx)));
    for (std::uint64_t i = 0; i < n; ++i) (void)tx.send(i);
    { auto gone = std::move(tx); }
    const std::uint64_t x = co_await a;
    const std::uint64_t y = co_await b;
    co_return x + y;
}

TEST_P(broadcast_rt, two_receivers_across_tasks) {
    auto rt = this->rt(2);
    const std::uint64_t n = 1000;
    EXPECT_EQ(rt.block_on(fan_out(n)), n * (n - 1));
}

// Cooperative budget: a receive loop over a broadcast channel that is never empty still
// lets the other tasks of its (only) worker run.
rill::task<> count_ticks(std::atomic<int>* ticks, std::atomic<bool>* stop) {
    while (!stop->load()) {
        ticks->fetch_add(1);
        co_await rill::yield_now();
    }
}

rill::task<int> greedy_receiver(std::size_t items) {
    auto [tx, rx] = broadcast::channel<int>(items);
    for (std::size_t i = 0; i < items; ++i) (void)tx.send(1);
    std::atomic<int> ticks{0};
    std::atomic<bool> stop{false};
    auto h = rill::spawn(count_ticks(&ticks, &stop));
    co_await rill::yield_now();
    const int before = ticks.load();
    for (std::size_t got = 0; got < items; ++got) {
        auto v = co_await rx.recv();  // always ready: only the budget makes it yield
        if (!v) break;
    }
    const int during = ticks.load() - before;
    stop = true;
    co_await h;
    co_return during;
}

TEST(broadcast_coop, always_ready_recv_loop_lets_other_tasks_run) {
    auto rt = rill_test::make_rt(rill::flavor::current_thread);
    const std::size_t items = rill_test::scaled(65'536);
    const int during = rt.block_on(greedy_receiver(items));
    EXPECT_GE(static_cast<std::size_t>(during), items / 130);
}

}  // namespace
