// rill::sync::mpsc: bounded and unbounded multi-producer single-consumer channels
// (Tokio's mpsc semantics).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/mpsc.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

namespace mpsc = rill::sync::mpsc;
using rill::test::make_mock;
using rill_test::drop_counter;

// ---------------------------------------------------------------- bounded, by hand

TEST(mpsc, send_then_recv_in_order) {
    auto [tx, rx] = mpsc::channel<int>(4);
    for (int i = 0; i < 3; ++i) {
        auto s = make_mock(tx.send(i));
        auto r = s.poll();
        ASSERT_TRUE(r.is_ready());
        EXPECT_TRUE(r->has_value());
    }
    EXPECT_EQ(rx.len(), 3u);
    for (int i = 0; i < 3; ++i) {
        auto m = make_mock(rx.recv());
        auto r = m.poll();
        ASSERT_TRUE(r.is_ready());
        EXPECT_EQ(*r, std::optional<int>(i));
    }
    EXPECT_TRUE(rx.is_empty());
}

TEST(mpsc, recv_waits_and_is_woken_by_send) {
    auto [tx, rx] = mpsc::channel<std::string>(1);
    auto m = make_mock(rx.recv());
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    ASSERT_TRUE(tx.try_send("hello").has_value());
    EXPECT_TRUE(m.is_woken());
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(**r, "hello");
}

TEST(mpsc, send_waits_for_capacity_and_completes_when_a_message_is_received) {
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    EXPECT_EQ(tx.capacity(), 0u);
    auto s = make_mock(tx.send(2));
    EXPECT_TRUE(s.poll().is_pending());
    EXPECT_EQ(s.waker_count(), 1u);
    EXPECT_EQ(rx.try_recv().value(), 1);  // frees the slot: handed to the waiting send
    EXPECT_TRUE(s.is_woken());
    auto r = s.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_TRUE(r->has_value());
    EXPECT_EQ(rx.try_recv().value(), 2);
    EXPECT_EQ(tx.capacity(), 1u);
}

TEST(mpsc, waiting_senders_are_served_in_fifo_order) {
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0).has_value());
    auto a = make_mock(tx.send(1));
    auto b = make_mock(tx.send(2));
    ASSERT_TRUE(a.poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    // A try_send does not overtake the queued senders even once a slot frees up.
    EXPECT_EQ(rx.try_recv().value(), 0);
    EXPECT_TRUE(a.is_woken());
    EXPECT_FALSE(b.is_woken());
    auto t = tx.try_send(9);
    ASSERT_FALSE(t.has_value());
    EXPECT_TRUE(t.error().is_full());
    EXPECT_EQ(t.error().value, 9);
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_TRUE(b.is_woken());
    EXPECT_EQ(rx.try_recv().value(), 2);
    EXPECT_TRUE(a.poll().is_ready());
    EXPECT_TRUE(b.poll().is_ready());
}

TEST(mpsc, try_send_reports_full_and_closed_with_the_value) {
    auto [tx, rx] = mpsc::channel<std::unique_ptr<int>>(1);
    ASSERT_TRUE(tx.try_send(std::make_unique<int>(1)).has_value());
    auto full = tx.try_send(std::make_unique<int>(2));
    ASSERT_FALSE(full.has_value());
    EXPECT_TRUE(full.error().is_full());
    EXPECT_EQ(*full.error().value, 2);
    rx.close();
    auto closed = tx.try_send(std::make_unique<int>(3));
    ASSERT_FALSE(closed.has_value());
    EXPECT_TRUE(closed.error().is_closed());
    EXPECT_EQ(*std::move(closed.error()).into_inner(), 3);
}

TEST(mpsc, send_on_a_dropped_receiver_hands_the_value_back) {
    auto [tx, rx] = mpsc::channel<std::unique_ptr<int>>(2);
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto s = make_mock(tx.send(std::make_unique<int>(5)));
    auto r = s.poll();
    ASSERT_TRUE(r.is_ready());
    ASSERT_FALSE(r->has_value());
    EXPECT_EQ(*r->error().value, 5);
}

TEST(mpsc, waiting_sender_gets_its_value_back_when_the_receiver_closes) {
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    auto s = make_mock(tx.send(2));
    ASSERT_TRUE(s.poll().is_pending());
    rx.close();
    EXPECT_TRUE(s.is_woken());
    auto r = s.poll();
    ASSERT_TRUE(r.is_ready());
    ASSERT_FALSE(r->has_value());
    EXPECT_EQ(r->error().value, 2);
    // The message sent before the close still drains, then the end.
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::disconnected);
}

TEST(mpsc, recv_returns_nullopt_after_the_last_sender_drops_and_the_buffer_drains) {
    auto [tx, rx] = mpsc::channel<int>(8);
    auto tx2 = tx;
    ASSERT_TRUE(tx.try_send(1).has_value());
    ASSERT_TRUE(tx2.try_send(2).has_value());
    { auto gone = std::move(tx); }
    EXPECT_FALSE(rx.is_closed());
    { auto gone = std::move(tx2); }
    EXPECT_TRUE(rx.is_closed());
    auto a = make_mock(rx.recv());
    EXPECT_EQ(*a.poll(), std::optional<int>(1));
    auto b = make_mock(rx.recv());
    EXPECT_EQ(*b.poll(), std::optional<int>(2));
    auto c = make_mock(rx.recv());
    EXPECT_EQ(*c.poll(), std::nullopt);
}

TEST(mpsc, waiting_recv_is_woken_when_the_last_sender_drops) {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto m = make_mock(rx.recv());
    ASSERT_TRUE(m.poll().is_pending());
    { auto gone = std::move(tx); }
    EXPECT_TRUE(m.is_woken());
    EXPECT_EQ(*m.poll(), std::nullopt);
}

TEST(mpsc, close_keeps_buffered_messages_and_fails_later_sends) {
    auto [tx, rx] = mpsc::channel<int>(4);
    ASSERT_TRUE(tx.try_send(1).has_value());
    ASSERT_TRUE(tx.try_send(2).has_value());
    rx.close();
    EXPECT_TRUE(rx.is_closed());
    EXPECT_TRUE(tx.is_closed());
    EXPECT_FALSE(tx.try_send(3).has_value());
    EXPECT_EQ(rx.try_recv().value(), 1);
    auto m = make_mock(rx.recv());
    EXPECT_EQ(*m.poll(), std::optional<int>(2));
    auto end = make_mock(rx.recv());
    EXPECT_EQ(*end.poll(), std::nullopt);  // senders still alive, but closed and drained
}

TEST(mpsc, try_recv_reports_empty_then_disconnected) {
    auto [tx, rx] = mpsc::channel<int>(1);
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::empty);
    ASSERT_TRUE(tx.try_send(7).has_value());
    EXPECT_EQ(rx.try_recv().value(), 7);
    { auto gone = std::move(tx); }
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::disconnected);
}

TEST(mpsc, recv_many_takes_up_to_the_limit) {
    auto [tx, rx] = mpsc::channel<int>(10);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.try_send(i).has_value());
    std::vector<int> buf{-1};
    auto m = make_mock(rx.recv_many(buf, 3));
    EXPECT_EQ(*m.poll(), 3u);
    EXPECT_EQ(buf, (std::vector<int>{-1, 0, 1, 2}));
    auto m2 = make_mock(rx.recv_many(buf, 10));
    EXPECT_EQ(*m2.poll(), 2u);
    EXPECT_EQ(buf.size(), 6u);
    EXPECT_EQ(tx.capacity(), 10u);
    auto zero = make_mock(rx.recv_many(buf, 0));
    EXPECT_EQ(*zero.poll(), 0u);
    auto wait = make_mock(rx.recv_many(buf, 4));
    EXPECT_TRUE(wait.poll().is_pending());
    ASSERT_TRUE(tx.try_send(9).has_value());
    EXPECT_EQ(*wait.poll(), 1u);
    EXPECT_EQ(buf.back(), 9);
    { auto gone = std::move(tx); }
    auto end = make_mock(rx.recv_many(buf, 4));
    EXPECT_EQ(*end.poll(), 0u);
}

TEST(mpsc, capacity_len_and_max_capacity) {
    auto [tx, rx] = mpsc::channel<int>(3);
    EXPECT_EQ(tx.max_capacity(), 3u);
    EXPECT_EQ(rx.max_capacity(), 3u);
    EXPECT_EQ(tx.capacity(), 3u);
    ASSERT_TRUE(tx.try_send(1).has_value());
    EXPECT_EQ(tx.capacity(), 2u);
    EXPECT_EQ(rx.capacity(), 2u);
    EXPECT_EQ(rx.len(), 1u);
    auto p = tx.try_reserve();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(tx.capacity(), 1u);
    EXPECT_EQ(rx.len(), 1u);  // a reservation is not a message
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(tx.capacity(), 2u);
}

TEST(mpsc, zero_capacity_is_rejected) {
    EXPECT_THROW((void)mpsc::channel<int>(0), std::invalid_argument);
}

TEST(mpsc, permit_send_cannot_fail_and_a_dropped_permit_frees_its_slot) {
    auto [tx, rx] = mpsc::channel<int>(1);
    {
        auto p = tx.try_reserve();
        ASSERT_TRUE(p.has_value());
        auto full = tx.try_reserve();
        ASSERT_FALSE(full.has_value());
        EXPECT_TRUE(full.error().is_full());
    }  // dropped unused
    EXPECT_EQ(tx.capacity(), 1u);
    auto r = make_mock(tx.reserve());
    auto got = r.poll();
    ASSERT_TRUE(got.is_ready());
    ASSERT_TRUE(got->has_value());
    std::move(got->value()).send(42);
    EXPECT_EQ(rx.try_recv().value(), 42);
}

TEST(mpsc, reserve_waits_and_a_permit_keeps_the_channel_open) {
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    auto r = make_mock(tx.reserve());
    ASSERT_TRUE(r.poll().is_pending());
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_TRUE(r.is_woken());
    auto got = r.poll();
    ASSERT_TRUE(got.is_ready() && got->has_value());
    mpsc::permit<int> p = std::move(got->value());
    { auto gone = std::move(tx); }
    EXPECT_FALSE(rx.is_closed());  // the permit still counts as a sender
    p.send(2);
    EXPECT_EQ(rx.try_recv().value(), 2);
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::disconnected);
}

TEST(mpsc, reserve_on_a_closed_channel_fails) {
    auto [tx, rx] = mpsc::channel<int>(1);
    rx.close();
    auto r = make_mock(tx.reserve());
    auto got = r.poll();
    ASSERT_TRUE(got.is_ready());
    EXPECT_FALSE(got->has_value());
    EXPECT_TRUE(tx.try_reserve().error().is_closed());
}

TEST(mpsc, permit_reserved_before_close_still_delivers) {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto p = tx.try_reserve();
    ASSERT_TRUE(p.has_value());
    rx.close();
    auto m = make_mock(rx.recv());
    EXPECT_TRUE(m.poll().is_pending());  // the reserved slot may still be used
    std::move(p.value()).send(5);
    EXPECT_TRUE(m.is_woken());
    EXPECT_EQ(*m.poll(), std::optional<int>(5));
    auto end = make_mock(rx.recv());
    EXPECT_EQ(*end.poll(), std::nullopt);
}

TEST(mpsc, dropped_permit_after_close_ends_the_stream) {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto p = tx.try_reserve();
    rx.close();
    auto m = make_mock(rx.recv());
    EXPECT_TRUE(m.poll().is_pending());
    { auto gone = std::move(p); }
    EXPECT_TRUE(m.is_woken());
    EXPECT_EQ(*m.poll(), std::nullopt);
}

TEST(mpsc, empty_handles_fail_cleanly) {
    mpsc::receiver<int> rx;
    EXPECT_THROW((void)rx.recv(), std::logic_error);
    EXPECT_THROW((void)rx.try_recv(), std::logic_error);
    EXPECT_TRUE(rx.is_closed());
    mpsc::sender<int> tx;
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.try_send(1);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().is_closed());
    auto s = make_mock(tx.send(2));
    EXPECT_EQ(s.poll()->error().value, 2);
}

TEST(mpsc, sender_closed_completes_when_the_receiver_goes) {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto c = make_mock(tx.closed());
    ASSERT_TRUE(c.poll().is_pending());
    EXPECT_EQ(c.waker_count(), 1u);
    {
        auto d = make_mock(tx.closed());  // a withdrawn wait
        ASSERT_TRUE(d.poll().is_pending());
    }
    rx.close();
    EXPECT_TRUE(c.is_woken());
    EXPECT_TRUE(c.poll().is_ready());
    auto now = make_mock(tx.closed());
    EXPECT_TRUE(now.poll().is_ready());

    auto [utx, urx] = mpsc::unbounded_channel<int>();
    auto u = make_mock(utx.closed());
    ASSERT_TRUE(u.poll().is_pending());
    { auto gone = std::move(urx); }
    EXPECT_TRUE(u.is_woken());
    EXPECT_TRUE(u.poll().is_ready());
}

// ---------------------------------------------------------------- cancel safety

TEST(mpsc, destroyed_recv_leaves_the_message_in_the_channel) {
    auto [tx, rx] = mpsc::channel<int>(1);
    {
        auto m = make_mock(rx.recv());
        ASSERT_TRUE(m.poll().is_pending());
        ASSERT_TRUE(tx.try_send(3).has_value());
        EXPECT_TRUE(m.is_woken());
    }  // destroyed after the wake, before it ran
    EXPECT_EQ(rx.try_recv().value(), 3);
}

TEST(mpsc, destroyed_recv_withdraws_its_waker) {
    auto [tx, rx] = mpsc::channel<int>(1);
    {
        auto m = make_mock(rx.recv());
        ASSERT_TRUE(m.poll().is_pending());
        EXPECT_EQ(m.waker_count(), 1u);
    }
    ASSERT_TRUE(tx.try_send(3).has_value());  // wakes nobody, touches nothing freed
    auto m = make_mock(rx.recv());
    EXPECT_EQ(*m.poll(), std::optional<int>(3));
}

TEST(mpsc, destroyed_waiting_send_is_withdrawn_and_its_message_dropped) {
    std::atomic<int> drops{0};
    auto [tx, rx] = mpsc::channel<drop_counter>(1);
    ASSERT_TRUE(tx.try_send(drop_counter(nullptr)).has_value());
    {
        auto s = make_mock(tx.send(drop_counter(&drops)));
        ASSERT_TRUE(s.poll().is_pending());
    }
    EXPECT_EQ(drops.load(), 1);
    ASSERT_TRUE(rx.try_recv().has_value());
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::empty);  // nothing else arrived
    EXPECT_EQ(tx.capacity(), 1u);
}

TEST(mpsc, send_granted_before_its_task_was_destroyed_is_delivered) {
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    {
        auto s = make_mock(tx.send(2));
        ASSERT_TRUE(s.poll().is_pending());
        EXPECT_EQ(rx.try_recv().value(), 1);  // grants the slot: the message goes in
        EXPECT_TRUE(s.is_woken());
    }
    EXPECT_EQ(rx.try_recv().value(), 2);
}

TEST(mpsc, permit_granted_to_a_destroyed_reserve_is_passed_on) {
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    using reserve_mock = rill::test::mock_task<std::expected<mpsc::permit<int>, mpsc::send_error<void>>>;
    std::unique_ptr<reserve_mock> a(new reserve_mock(make_mock(tx.reserve())));
    auto b = make_mock(tx.send(2));
    ASSERT_TRUE(a->poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    EXPECT_EQ(rx.try_recv().value(), 1);  // the permit goes to a...
    EXPECT_TRUE(a->is_woken());
    a.reset();  // ...which is destroyed before running: b gets it
    EXPECT_TRUE(b.is_woken());
    EXPECT_EQ(rx.try_recv().value(), 2);
}

TEST(mpsc, buffered_messages_are_destroyed_with_the_receiver) {
    std::atomic<int> drops{0};
    auto [tx, rx] = mpsc::channel<drop_counter>(4);
    ASSERT_TRUE(tx.try_send(drop_counter(&drops)).has_value());
    ASSERT_TRUE(tx.try_send(drop_counter(&drops)).has_value());
    { auto gone = std::move(rx); }
    EXPECT_EQ(drops.load(), 2);
}

// ---------------------------------------------------------------- unbounded

TEST(mpsc_unbounded, send_never_waits) {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(tx.send(i).has_value());
    EXPECT_EQ(rx.len(), 10'000u);
    for (int i = 0; i < 10'000; ++i) ASSERT_EQ(rx.try_recv().value(), i);
}

TEST(mpsc_unbounded, send_after_receiver_dropped_hands_the_value_back) {
    auto [tx, rx] = mpsc::unbounded_channel<std::string>();
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send("back");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value, "back");
}

TEST(mpsc_unbounded, recv_ends_when_every_sender_is_gone) {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    auto tx2 = tx;
    EXPECT_TRUE(tx.same_channel(tx2));
    auto m = make_mock(rx.recv());
    ASSERT_TRUE(m.poll().is_pending());
    ASSERT_TRUE(tx2.send(1).has_value());
    EXPECT_EQ(*m.poll(), std::optional<int>(1));
    { auto gone = std::move(tx); }
    { auto gone = std::move(tx2); }
    auto end = make_mock(rx.recv());
    EXPECT_EQ(*end.poll(), std::nullopt);
}

TEST(mpsc_unbounded, close_fails_sends_and_drains) {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    ASSERT_TRUE(tx.send(1).has_value());
    rx.close();
    EXPECT_FALSE(tx.send(2).has_value());
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::disconnected);
}

// ---------------------------------------------------------------- across tasks

class mpsc_rt : public rill_test::both_flavors {};
RILL_BOTH_FLAVORS(mpsc_rt);

rill::task<> producer(mpsc::sender<std::uint64_t> tx, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = co_await tx.send(i);
        if (!r) co_return;
    }
}

rill::task<std::pair<std::uint64_t, std::uint64_t>> consume(mpsc::receiver<std::uint64_t> rx) {
    std::uint64_t count = 0, sum = 0;
    while (std::optional<std::uint64_t> v = co_await rx.recv()) {
        ++count;
        sum += *v;
    }
    co_return std::pair{count, sum};
}

rill::task<std::pair<std::uint64_t, std::uint64_t>> many_producers(std::uint64_t per) {
    auto [tx, rx] = mpsc::channel<std::uint64_t>(16);
    for (int p = 0; p < 4; ++p) rill::spawn(producer(tx, per)).detach();
    { auto gone = std::move(tx); }
    co_return co_await consume(std::move(rx));
}

TEST_P(mpsc_rt, four_producers_one_consumer_count_and_sum) {
    auto rt = this->rt(2);
    const std::uint64_t per = rill_test::scaled(20'000);
    auto [count, sum] = rt.block_on(many_producers(per));
    EXPECT_EQ(count, 4 * per);
    EXPECT_EQ(sum, 4 * (per * (per - 1) / 2));
}

rill::task<> ponger(mpsc::receiver<int> rx, mpsc::sender<int> tx) {
    while (auto v = co_await rx.recv()) {
        if (!co_await tx.send(*v + 1)) co_return;
    }
}

rill::task<int> ping_pong(int n) {
    auto [ping_tx, ping_rx] = mpsc::channel<int>(1);
    auto [pong_tx, pong_rx] = mpsc::channel<int>(1);
    auto h = rill::spawn(ponger(std::move(ping_rx), std::move(pong_tx)));
    int v = 0;
    for (int i = 0; i < n; ++i) {
        auto s = co_await ping_tx.send(v);
        if (!s) throw std::runtime_error("ping send failed");
        auto r = co_await pong_rx.recv();
        if (!r) throw std::runtime_error("pong closed");
        v = *r;
    }
    { auto gone = std::move(ping_tx); }
    co_await h;
    co_return v;
}

TEST_P(mpsc_rt, ping_pong_round_trips) {
    auto rt = this->rt(2);
    const int n = static_cast<int>(rill_test::scaled(10'000));
    EXPECT_EQ(rt.block_on(ping_pong(n)), n);
}

rill::task<std::uint64_t> unbounded_flow(std::uint64_t n) {
    auto [tx, rx] = mpsc::unbounded_channel<std::uint64_t>();
    std::thread t([tx = std::move(tx), n]() mutable {
        for (std::uint64_t i = 0; i < n; ++i) (void)tx.send(i);
    });
    std::uint64_t sum = 0;
    while (auto v = co_await rx.recv()) sum += *v;
    t.join();
    co_return sum;
}

TEST_P(mpsc_rt, unbounded_from_a_plain_thread) {
    auto rt = this->rt(2);
    const std::uint64_t n = rill_test::scaled(100'000);
    EXPECT_EQ(rt.block_on(unbounded_flow(n)), n * (n - 1) / 2);
}

rill::task<std::expected<void, mpsc::send_timeout_error<int>>> send_with_timeout(mpsc::sender<int>* tx, int v) {
    co_return co_await tx->send_timeout(v, std::chrono::milliseconds(5));
}

TEST_P(mpsc_rt, send_timeout_hands_the_value_back_on_timeout) {
    auto rt = this->builder(2).enable_time().build();
    auto [tx, rx] = mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    auto r = rt.block_on(send_with_timeout(&tx, 2));
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().is_timeout());
    EXPECT_EQ(r.error().value, 2);
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_EQ(rx.try_recv().error(), mpsc::try_recv_error::empty);  // 2 was not sent
    auto ok = rt.block_on(send_with_timeout(&tx, 3));
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(rx.try_recv().value(), 3);
    rx.close();
    auto closed = rt.block_on(send_with_timeout(&tx, 4));
    ASSERT_FALSE(closed.has_value());
    EXPECT_TRUE(closed.error().is_closed());
    EXPECT_EQ(closed.error().value, 4);
}

// Cooperative budget: a receive loop over a channel that is never empty still lets the
// other tasks of its (only) worker run.
rill::task<> count_ticks(std::atomic<int>* ticks, std::atomic<bool>* stop) {
    while (!stop->load()) {
        ticks->fetch_add(1);
        co_await rill::yield_now();
    }
}

rill::task<int> greedy_receiver(std::size_t items) {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    for (std::size_t i = 0; i < items; ++i) (void)tx.send(1);
    std::atomic<int> ticks{0};
    std::atomic<bool> stop{false};
    auto h = rill::spawn(count_ticks(&ticks, &stop));
    co_await rill::yield_now();  // let the ticker start
    const int before = ticks.load();
    std::size_t got = 0;
    while (got < items) {
        auto v = co_await rx.recv();  // always ready: only the budget makes it yield
        if (!v) break;
        ++got;
    }
    const int during = ticks.load() - before;
    stop = true;
    co_await h;
    co_return during;
}

TEST(mpsc_coop, always_ready_recv_loop_lets_other_tasks_run) {
    auto rt = rill_test::make_rt(rill::flavor::current_thread);
    const std::size_t items = rill_test::scaled(1'000'000);
    const int during = rt.block_on(greedy_receiver(items));
    // At most 128 receives complete per poll (plus the one the yield resumes): the ticker
    // runs between every batch.
    EXPECT_GE(static_cast<std::size_t>(during), items / 130);
}

rill::task<int> greedy_sender(std::size_t items) {
    auto [tx, rx] = mpsc::channel<int>(items + 1);
    std::atomic<int> ticks{0};
    std::atomic<bool> stop{false};
    auto h = rill::spawn(count_ticks(&ticks, &stop));
    co_await rill::yield_now();
    const int before = ticks.load();
    for (std::size_t i = 0; i < items; ++i) (void)co_await tx.send(1);
    const int during = ticks.load() - before;
    stop = true;
    co_await h;
    co_return during;
}

TEST(mpsc_coop, always_ready_send_loop_lets_other_tasks_run) {
    auto rt = rill_test::make_rt(rill::flavor::current_thread);
    const std::size_t items = rill_test::scaled(100'000);
    const int during = rt.block_on(greedy_sender(items));
    EXPECT_GE(static_cast<std::size_t>(during), items / 130);
}

}  // namespace
