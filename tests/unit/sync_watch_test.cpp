// rill::sync::watch: the latest value, observed by many receivers (Tokio's watch).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/watch.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

namespace watch = rill::sync::watch;
using rill::test::make_mock;

TEST(watch, initial_value_is_seen) {
    auto [tx, rx] = watch::channel<std::string>("init");
    EXPECT_EQ(*rx.borrow(), "init");
    EXPECT_FALSE(rx.borrow().has_changed());
    EXPECT_FALSE(rx.has_changed().value());
    auto m = make_mock(rx.changed());
    EXPECT_TRUE(m.poll().is_pending());
}

TEST(watch, changed_completes_after_send_and_marks_seen) {
    auto [tx, rx] = watch::channel<int>(0);
    auto m = make_mock(rx.changed());
    ASSERT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    ASSERT_TRUE(tx.send(1).has_value());
    EXPECT_TRUE(m.is_woken());
    EXPECT_TRUE(m.poll()->has_value());
    EXPECT_EQ(*rx.borrow(), 1);
    EXPECT_FALSE(rx.has_changed().value());
}

TEST(watch, only_the_latest_value_is_kept) {
    auto [tx, rx] = watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    ASSERT_TRUE(tx.send(2).has_value());
    EXPECT_TRUE(rx.has_changed().value());
    auto m = make_mock(rx.changed());
    EXPECT_TRUE(m.poll()->has_value());
    EXPECT_EQ(*rx.borrow(), 2);
    auto again = make_mock(rx.changed());
    EXPECT_TRUE(again.poll().is_pending());
}

TEST(watch, borrow_does_not_mark_seen_but_borrow_and_update_does) {
    auto [tx, rx] = watch::channel<int>(0);
    ASSERT_TRUE(tx.send(5).has_value());
    {
        auto r = rx.borrow();
        EXPECT_EQ(*r, 5);
        EXPECT_TRUE(r.has_changed());
    }
    EXPECT_TRUE(rx.has_changed().value());
    {
        auto r = rx.borrow_and_update();
        EXPECT_EQ(r.get(), 5);
        EXPECT_TRUE(r.has_changed());
    }
    EXPECT_FALSE(rx.has_changed().value());
    EXPECT_FALSE(rx.borrow_and_update().has_changed());
}

TEST(watch, send_fails_without_receivers_but_send_replace_and_modify_work) {
    auto [tx, rx] = watch::channel<std::string>("a");
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send("b");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value, "b");
    EXPECT_EQ(*tx.borrow(), "a");
    EXPECT_EQ(tx.send_replace("c"), "a");
    tx.send_modify([](std::string& s) { s += "!"; });
    EXPECT_EQ(*tx.borrow(), "c!");
    auto late = tx.subscribe();
    EXPECT_EQ(*late.borrow(), "c!");
    EXPECT_FALSE(late.has_changed().value());  // a new receiver has the current value seen
}

TEST(watch, send_if_modified_notifies_only_when_modified) {
    auto [tx, rx] = watch::channel<int>(1);
    EXPECT_FALSE(tx.send_if_modified([](int& v) { return v == 0 ? (v = 9, true) : false; }));
    EXPECT_FALSE(rx.has_changed().value());
    EXPECT_TRUE(tx.send_if_modified([](int& v) {
        v = 2;
        return true;
    }));
    EXPECT_TRUE(rx.has_changed().value());
    EXPECT_EQ(*rx.borrow(), 2);
}

TEST(watch, changed_fails_once_the_sender_is_gone_after_the_last_value) {
    auto [tx, rx] = watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    { auto gone = std::move(tx); }
    EXPECT_FALSE(rx.has_changed().has_value());
    auto last = make_mock(rx.changed());
    EXPECT_TRUE(last.poll()->has_value());  // the final value is still reported
    EXPECT_EQ(*rx.borrow(), 1);
    auto end = make_mock(rx.changed());
    EXPECT_FALSE(end.poll()->has_value());
}

TEST(watch, parked_changed_is_woken_by_the_sender_drop) {
    auto [tx, rx] = watch::channel<int>(0);
    auto m = make_mock(rx.changed());
    ASSERT_TRUE(m.poll().is_pending());
    { auto gone = std::move(tx); }
    EXPECT_TRUE(m.is_woken());
    EXPECT_FALSE(m.poll()->has_value());
}

TEST(watch, mark_changed_and_mark_unchanged) {
    auto [tx, rx] = watch::channel<int>(0);
    rx.mark_changed();
    EXPECT_TRUE(rx.has_changed().value());
    auto m = make_mock(rx.changed());
    EXPECT_TRUE(m.poll()->has_value());
    ASSERT_TRUE(tx.send(3).has_value());
    rx.mark_unchanged();
    EXPECT_FALSE(rx.has_changed().value());
}

TEST(watch, receiver_copy_keeps_the_seen_version) {
    auto [tx, rx] = watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    auto copy = rx;
    EXPECT_EQ(tx.receiver_count(), 2u);
    EXPECT_TRUE(copy.has_changed().value());
    EXPECT_TRUE(copy.same_channel(rx));
    (void)copy.borrow_and_update();
    EXPECT_FALSE(copy.has_changed().value());
    EXPECT_TRUE(rx.has_changed().value());
}

TEST(watch, sender_closed_completes_when_every_receiver_is_gone) {
    auto [tx, rx] = watch::channel<int>(0);
    auto rx2 = rx;
    auto m = make_mock(tx.closed());
    ASSERT_TRUE(m.poll().is_pending());
    { auto gone = std::move(rx); }
    EXPECT_FALSE(m.is_woken());
    { auto gone = std::move(rx2); }
    EXPECT_TRUE(m.is_woken());
    EXPECT_TRUE(m.poll().is_ready());
    auto now = make_mock(tx.closed());
    EXPECT_TRUE(now.poll().is_ready());
}

TEST(watch, destroyed_changed_withdraws_and_marks_nothing_seen) {
    auto [tx, rx] = watch::channel<int>(0);
    {
        auto m = make_mock(rx.changed());
        ASSERT_TRUE(m.poll().is_pending());
        ASSERT_TRUE(tx.send(1).has_value());
        EXPECT_TRUE(m.is_woken());
    }
    EXPECT_TRUE(rx.has_changed().value());
    {
        auto m = make_mock(rx.changed());
        EXPECT_TRUE(m.poll().is_ready());
    }
    {
        auto m = make_mock(rx.changed());
        ASSERT_TRUE(m.poll().is_pending());
    }
    ASSERT_TRUE(tx.send(2).has_value());  // touches no freed waiter
}

TEST(watch, empty_handles_fail_cleanly) {
    watch::sender<int> tx;
    watch::receiver<int> rx;
    EXPECT_THROW((void)tx.send(1), std::logic_error);
    EXPECT_TRUE(tx.is_closed());
    EXPECT_THROW((void)rx.borrow(), std::logic_error);
    EXPECT_THROW((void)rx.changed(), std::logic_error);
}

class watch_rt : public rill_test::both_flavors {};
RILL_BOTH_FLAVORS(watch_rt);

rill::task<int> follow(watch::receiver<int> rx) {
    int last = *rx.borrow();
    while (co_await rx.changed()) last = *rx.borrow_and_update();
    co_return last;
}

rill::task<int> publish(int n) {
    auto [tx, rx] = watch::channel<int>(0);
    auto h = rill::spawn(follow(std::move(rx)));
    for (int i = 1; i <= n; ++i) {
        (void)tx.send(i);
        if (i % 16 == 0) co_await rill::yield_now();
    }
    { auto gone = std::move(tx); }
    co_return co_await h;
}

TEST_P(watch_rt, follower_ends_with_the_last_value) {
    auto rt = this->rt(2);
    EXPECT_EQ(rt.block_on(publish(1000)), 1000);
}

}  // namespace
