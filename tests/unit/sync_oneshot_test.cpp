// rill::sync::oneshot: one value from a sender to a receiver (Tokio's oneshot).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

namespace oneshot = rill::sync::oneshot;
using rill::test::make_mock;
using rill::test::mock_task;
using rill_test::drop_counter;

/// Awaits a receiver owned by the caller (so the test can keep using it afterwards).
template <class T>
rill::task<T> recv_ref(oneshot::receiver<T>* rx) {
    co_return co_await *rx;
}

TEST(oneshot, send_then_receive) {
    auto [tx, rx] = oneshot::channel<int>();
    EXPECT_FALSE(tx.is_closed());
    ASSERT_TRUE(tx.send(1).has_value());
    auto m = make_mock(std::move(rx));
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 1);
}

TEST(oneshot, receive_waits_for_the_send) {
    auto [tx, rx] = oneshot::channel<std::string>();
    auto m = make_mock(std::move(rx));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    ASSERT_TRUE(tx.send("hi").has_value());
    EXPECT_TRUE(m.is_woken());
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, "hi");
}

TEST(oneshot, move_only_values) {
    auto [tx, rx] = oneshot::channel<std::unique_ptr<int>>();
    ASSERT_TRUE(tx.send(std::make_unique<int>(4)).has_value());
    auto m = make_mock(std::move(rx));
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(**r, 4);
}

TEST(oneshot, send_after_receiver_dropped_gives_the_value_back) {
    auto [tx, rx] = oneshot::channel<std::unique_ptr<int>>();
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send(std::make_unique<int>(7));
    ASSERT_FALSE(r.has_value());
    ASSERT_TRUE(r.error());
    EXPECT_EQ(*r.error(), 7);
}

TEST(oneshot, send_after_close_gives_the_value_back) {
    auto [tx, rx] = oneshot::channel<int>();
    rx.close();
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send(5);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), 5);
    EXPECT_EQ(rx.try_recv().error(), oneshot::try_recv_status::closed);
}

TEST(oneshot, sender_dropped_while_receiving_gives_recv_error) {
    auto [tx, rx] = oneshot::channel<int>();
    auto m = make_mock(std::move(rx));
    EXPECT_TRUE(m.poll().is_pending());
    { auto gone = std::move(tx); }
    EXPECT_TRUE(m.is_woken());
    EXPECT_THROW(m.poll(), oneshot::recv_error);
}

TEST(oneshot, sender_dropped_before_receiving_gives_recv_error_at_once) {
    auto [tx, rx] = oneshot::channel<int>();
    { auto gone = std::move(tx); }
    auto m = make_mock(std::move(rx));
    EXPECT_THROW(m.poll(), oneshot::recv_error);
}

TEST(oneshot, recv_error_is_a_rill_error) {
    auto [tx, rx] = oneshot::channel<int>();
    { auto gone = std::move(tx); }
    auto m = make_mock(std::move(rx));
    EXPECT_THROW(m.poll(), rill::error);
}

TEST(oneshot, try_recv_reports_empty_closed_and_value) {
    auto [tx, rx] = oneshot::channel<int>();
    auto e = rx.try_recv();
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error(), oneshot::try_recv_status::empty);
    ASSERT_TRUE(tx.send(8).has_value());
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 8);
    auto again = rx.try_recv();
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error(), oneshot::try_recv_status::closed) << "the value was taken, the sender is gone";

    auto [tx2, rx2] = oneshot::channel<int>();
    { auto gone = std::move(tx2); }
    EXPECT_EQ(rx2.try_recv().error(), oneshot::try_recv_status::closed);
}

TEST(oneshot, value_sent_before_close_is_still_received) {
    auto [tx, rx] = oneshot::channel<int>();
    ASSERT_TRUE(tx.send(3).has_value());
    rx.close();
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 3);

    auto [tx2, rx2] = oneshot::channel<int>();
    ASSERT_TRUE(tx2.send(4).has_value());
    rx2.close();
    auto m = make_mock(std::move(rx2));
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 4);
}

TEST(oneshot, awaiting_a_closed_receiver_fails_instead_of_hanging) {
    // Tokio: after close(), recv() returns the value if one was sent, else an error.
    auto [tx, rx] = oneshot::channel<int>();
    rx.close();
    auto m = make_mock(std::move(rx));
    EXPECT_THROW(m.poll(), oneshot::recv_error);
    EXPECT_FALSE(tx.send(1).has_value());
}

TEST(oneshot, close_while_awaiting_then_failed_send_wakes_the_receiver) {
    auto [tx, rx] = oneshot::channel<int>();
    mock_task m(recv_ref(&rx));
    EXPECT_TRUE(m.poll().is_pending());
    rx.close();
    EXPECT_FALSE(tx.send(2).has_value());  // consumes the sender
    EXPECT_TRUE(m.is_woken());
    EXPECT_THROW(m.poll(), oneshot::recv_error);
}

// --- sender::closed ----------------------------------------------------------------------

rill::task<void> wait_closed(oneshot::sender<int>* tx) { co_await tx->closed(); }

TEST(oneshot, closed_completes_when_the_receiver_is_dropped) {
    auto [tx, rx] = oneshot::channel<int>();
    mock_task m(wait_closed(&tx));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    { auto gone = std::move(rx); }
    EXPECT_TRUE(m.is_woken());
    EXPECT_TRUE(m.poll().is_ready());
    EXPECT_TRUE(tx.is_closed());
}

TEST(oneshot, closed_completes_on_close) {
    auto [tx, rx] = oneshot::channel<int>();
    mock_task m(wait_closed(&tx));
    EXPECT_TRUE(m.poll().is_pending());
    rx.close();
    EXPECT_TRUE(m.is_woken());
    EXPECT_TRUE(m.poll().is_ready());
}

TEST(oneshot, closed_is_ready_when_already_closed) {
    auto [tx, rx] = oneshot::channel<int>();
    { auto gone = std::move(rx); }
    mock_task m(wait_closed(&tx));
    EXPECT_TRUE(m.poll().is_ready());
}

TEST(oneshot, cancelled_closed_wait_can_be_repeated) {
    auto [tx, rx] = oneshot::channel<int>();
    {
        mock_task m(wait_closed(&tx));
        EXPECT_TRUE(m.poll().is_pending());
    }
    mock_task m2(wait_closed(&tx));
    EXPECT_TRUE(m2.poll().is_pending());
    rx.close();
    EXPECT_TRUE(m2.poll().is_ready());
}

// --- cancel safety -----------------------------------------------------------------------

TEST(oneshot, cancelled_receive_keeps_the_value_for_try_recv) {
    auto [tx, rx] = oneshot::channel<int>();
    {
        mock_task m(recv_ref(&rx));
        EXPECT_TRUE(m.poll().is_pending());
        EXPECT_EQ(m.waker_count(), 1u);
    }  // the await is destroyed mid-wait
    ASSERT_TRUE(tx.send(11).has_value()) << "the receiver itself is still alive";
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 11);
}

TEST(oneshot, cancelled_receive_can_be_awaited_again) {
    auto [tx, rx] = oneshot::channel<int>();
    {
        mock_task m(recv_ref(&rx));
        EXPECT_TRUE(m.poll().is_pending());
    }
    mock_task m2(recv_ref(&rx));
    EXPECT_TRUE(m2.poll().is_pending());
    ASSERT_TRUE(tx.send(12).has_value());
    EXPECT_TRUE(m2.is_woken());
    EXPECT_EQ(*m2.poll(), 12);
}

TEST(oneshot, cancelled_receive_after_the_send) {
    // The value arrives, the waiting coroutine is destroyed before it runs: the value stays.
    auto [tx, rx] = oneshot::channel<int>();
    {
        mock_task m(recv_ref(&rx));
        EXPECT_TRUE(m.poll().is_pending());
        ASSERT_TRUE(tx.send(13).has_value());
        EXPECT_TRUE(m.is_woken());
    }
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 13);
}

TEST(oneshot, unreceived_value_is_destroyed_with_the_channel) {
    std::atomic<int> dropped{0};
    {
        auto [tx, rx] = oneshot::channel<drop_counter>();
        ASSERT_TRUE(tx.send(drop_counter(&dropped)).has_value());
        EXPECT_EQ(dropped.load(), 0);
    }
    EXPECT_EQ(dropped.load(), 1);
    {
        auto [tx, rx] = oneshot::channel<drop_counter>();
        { auto gone = std::move(rx); }
        auto back = tx.send(drop_counter(&dropped));
        EXPECT_FALSE(back.has_value());
        EXPECT_EQ(dropped.load(), 1) << "the value handed back is alive";
    }
    EXPECT_EQ(dropped.load(), 2);
}

// --- across tasks and threads, under both schedulers ---------------------------------------

class oneshot_both : public rill_test::both_flavors {};

rill::task<void> send_later(oneshot::sender<int> tx, int v) {
    co_await rill::yield_now();
    (void)tx.send(v);
}

rill::task<void> drop_later(oneshot::sender<int> tx) {
    co_await rill::yield_now();
    (void)tx;
}

rill::task<int> relay_chain(int n) {
    int total = 0;
    for (int i = 0; i < n; ++i) {
        auto [tx, rx] = oneshot::channel<int>();
        rill::spawn(send_later(std::move(tx), i)).detach();
        total += co_await std::move(rx);
    }
    co_return total;
}

TEST_P(oneshot_both, values_cross_tasks) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(relay_chain(1000)), 999 * 1000 / 2);
}

rill::task<bool> sender_task_dropped() {
    auto [tx, rx] = oneshot::channel<int>();
    rill::spawn(drop_later(std::move(tx))).detach();
    try {
        (void)co_await std::move(rx);
    } catch (const oneshot::recv_error&) {
        co_return true;
    }
    co_return false;
}

TEST_P(oneshot_both, dropped_sender_task_gives_recv_error) {
    auto rt = this->rt();
    EXPECT_TRUE(rt.block_on(sender_task_dropped()));
}

rill::task<int> recv_from_thread() {
    auto [tx, rx] = oneshot::channel<int>();
    std::thread t([s = std::move(tx)]() mutable { (void)s.send(21); });
    const int v = co_await std::move(rx);
    t.join();
    co_return v;
}

TEST_P(oneshot_both, value_from_a_plain_thread) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(recv_from_thread()), 21);
}

rill::task<int> recv_from_blocking() {
    auto [tx, rx] = oneshot::channel<int>();
    rill::spawn_blocking([s = std::move(tx)]() mutable { (void)s.send(22); }).detach();
    co_return co_await std::move(rx);
}

TEST_P(oneshot_both, value_from_spawn_blocking) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(recv_from_blocking()), 22);
}

rill::task<bool> closed_across_tasks() {
    auto [tx, rx] = oneshot::channel<int>();
    auto waiter = rill::spawn([](oneshot::sender<int> s) -> rill::task<bool> {
        co_await s.closed();
        co_return s.is_closed();
    }(std::move(tx)));
    co_await rill::yield_now();
    { auto gone = std::move(rx); }
    co_return co_await waiter;
}

TEST_P(oneshot_both, closed_across_tasks) {
    auto rt = this->rt();
    EXPECT_TRUE(rt.block_on(closed_across_tasks()));
}

RILL_BOTH_FLAVORS(oneshot_both);

}  // namespace

// --- gaps checked against Tokio's oneshot documentation -------------------------------------

namespace {

// A receive abandoned by a timeout keeps the channel usable: the value sent afterwards
// is still received (the receiver is cancel-safe).
rill::task<int> receive_after_a_timed_out_await() {
    auto [tx, rx] = oneshot::channel<int>();
    bool timed_out = false;
    try {
        (void)co_await rill::time::timeout(std::chrono::milliseconds(1), rx);
    } catch (const rill::time::elapsed&) {
        timed_out = true;
    }
    if (!timed_out) co_return -1;
    (void)tx.send(11);
    co_return co_await std::move(rx);
}

TEST(oneshot_tokio, receive_is_cancel_safe_under_timeout) {
    auto rt = rill_test::builder_for(rill::flavor::current_thread, 1).enable_time().build();
    EXPECT_EQ(rt.block_on(receive_after_a_timed_out_await()), 11);
}

// sender::closed() lets a producer stop work as soon as nobody waits for the answer.
rill::task<bool> producer_stops_when_the_receiver_goes(oneshot::sender<int> tx) {
    co_await tx.closed();
    co_return tx.is_closed();
}

rill::task<bool> drop_receiver_while_the_producer_waits() {
    auto [tx, rx] = oneshot::channel<int>();
    auto h = rill::spawn(producer_stops_when_the_receiver_goes(std::move(tx)));
    co_await rill::yield_now();
    { auto gone = std::move(rx); }
    co_return co_await h;
}

TEST(oneshot_tokio, closed_wakes_a_producer_when_the_receiver_is_dropped) {
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 2);
    EXPECT_TRUE(rt.block_on(drop_receiver_while_the_producer_waits()));
}

TEST(oneshot_tokio, send_on_a_moved_from_sender_hands_the_value_back) {
    auto [tx, rx] = oneshot::channel<int>();
    auto tx2 = std::move(tx);
    auto r = tx.send(3);  // NOLINT(bugprone-use-after-move): the documented empty state
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), 3);
    EXPECT_TRUE(tx.is_closed());
    ASSERT_TRUE(tx2.send(4).has_value());
    EXPECT_EQ(rx.try_recv().value(), 4);
}

}  // namespace
