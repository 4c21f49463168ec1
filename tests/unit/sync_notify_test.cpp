// rill::sync::notify, with Tokio's Notify semantics: notify_one stores one permit,
// notify_waiters wakes the waiters that exist now and stores nothing, enable(), FIFO
// order, and a notification given to a waiter that is then destroyed is passed on.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::test::make_mock;
using rill::test::mock_task;

/// Awaits a notified held by the caller (so the test can enable() or destroy it).
rill::task<void> await_ref(rill::sync::notified* n) { co_await *n; }

TEST(notify, notify_one_without_waiter_stores_a_permit) {
    rill::sync::notify n;
    n.notify_one();
    auto m = make_mock(n.notified());
    EXPECT_TRUE(m.poll().is_ready());
    // The permit was consumed.
    auto m2 = make_mock(n.notified());
    EXPECT_TRUE(m2.poll().is_pending());
}

TEST(notify, many_notify_one_store_only_one_permit) {
    rill::sync::notify n;
    n.notify_one();
    n.notify_one();
    n.notify_one();
    auto a = make_mock(n.notified());
    auto b = make_mock(n.notified());
    EXPECT_TRUE(a.poll().is_ready());
    EXPECT_TRUE(b.poll().is_pending());
}

TEST(notify, notify_one_wakes_a_waiter_and_leaves_no_permit) {
    rill::sync::notify n;
    auto a = make_mock(n.notified());
    EXPECT_TRUE(a.poll().is_pending());
    n.notify_one();
    EXPECT_TRUE(a.is_woken());
    EXPECT_TRUE(a.poll().is_ready());
    auto b = make_mock(n.notified());
    EXPECT_TRUE(b.poll().is_pending());
}

TEST(notify, notify_one_is_fifo) {
    rill::sync::notify n;
    auto a = make_mock(n.notified());
    auto b = make_mock(n.notified());
    auto c = make_mock(n.notified());
    EXPECT_TRUE(a.poll().is_pending());
    EXPECT_TRUE(b.poll().is_pending());
    EXPECT_TRUE(c.poll().is_pending());
    n.notify_one();
    EXPECT_TRUE(a.is_woken());
    EXPECT_FALSE(b.is_woken());
    EXPECT_FALSE(c.is_woken());
    n.notify_one();
    EXPECT_TRUE(b.is_woken());
    EXPECT_FALSE(c.is_woken());
    n.notify_one();
    EXPECT_TRUE(c.is_woken());
    EXPECT_TRUE(c.poll().is_ready());
    EXPECT_TRUE(a.poll().is_ready());
    EXPECT_TRUE(b.poll().is_ready());
}

TEST(notify, notify_waiters_wakes_every_current_waiter_and_stores_no_permit) {
    rill::sync::notify n;
    auto a = make_mock(n.notified());
    auto b = make_mock(n.notified());
    EXPECT_TRUE(a.poll().is_pending());
    EXPECT_TRUE(b.poll().is_pending());
    n.notify_waiters();
    EXPECT_TRUE(a.is_woken());
    EXPECT_TRUE(b.is_woken());
    EXPECT_EQ(a.waker_count(), 0u);
    EXPECT_TRUE(a.poll().is_ready());
    EXPECT_TRUE(b.poll().is_ready());
    // No permit: a waiter that comes later waits.
    auto c = make_mock(n.notified());
    EXPECT_TRUE(c.poll().is_pending());
}

TEST(notify, notify_waiters_reaches_notified_created_but_not_polled) {
    rill::sync::notify n;
    auto before = n.notified();  // exists, never polled or enabled
    n.notify_waiters();
    auto after = n.notified();  // created after the call: not covered
    mock_task mb(await_ref(&before));
    mock_task ma(await_ref(&after));
    EXPECT_TRUE(mb.poll().is_ready());
    EXPECT_TRUE(ma.poll().is_pending());
}

TEST(notify, notify_waiters_does_not_consume_the_permit_of_notify_one) {
    rill::sync::notify n;
    n.notify_one();
    n.notify_waiters();
    auto m = make_mock(n.notified());
    EXPECT_TRUE(m.poll().is_ready()) << "the permit from notify_one is still there";
}

TEST(notify, enable_registers_without_awaiting) {
    rill::sync::notify n;
    auto first = n.notified();
    first.enable();
    // A later waiter is queued after the enabled one.
    auto second = make_mock(n.notified());
    EXPECT_TRUE(second.poll().is_pending());
    n.notify_one();  // goes to `first`, not to `second`, and not to a permit
    EXPECT_FALSE(second.is_woken());
    mock_task mf(await_ref(&first));
    EXPECT_TRUE(mf.poll().is_ready());
    auto third = make_mock(n.notified());
    EXPECT_TRUE(third.poll().is_pending()) << "the notification was not stored as a permit";
}

TEST(notify, enable_takes_a_stored_permit) {
    rill::sync::notify n;
    n.notify_one();
    auto first = n.notified();
    first.enable();
    auto other = make_mock(n.notified());
    EXPECT_TRUE(other.poll().is_pending()) << "enable() consumed the permit";
    mock_task mf(await_ref(&first));
    EXPECT_TRUE(mf.poll().is_ready());
}

TEST(notify, enable_then_notify_waiters) {
    rill::sync::notify n;
    auto first = n.notified();
    first.enable();
    n.notify_waiters();
    mock_task mf(await_ref(&first));
    EXPECT_TRUE(mf.poll().is_ready());
    EXPECT_EQ(mf.waker_count(), 0u);
}

TEST(notify, enable_is_idempotent) {
    rill::sync::notify n;
    auto first = n.notified();
    first.enable();
    first.enable();
    n.notify_one();
    n.notify_one();  // second one: nobody else waits, so it is the permit
    mock_task mf(await_ref(&first));
    EXPECT_TRUE(mf.poll().is_ready());
    auto m = make_mock(n.notified());
    EXPECT_TRUE(m.poll().is_ready());
}

// Gaps found checking against Tokio's Notify docs: enable() reports whether the waiter
// is already notified (Tokio's Notified::enable returns a bool), and an enabled
// notified may be moved (a pinned future in Tokio; here the move relinks it).
TEST(notify, enable_returns_whether_already_notified) {
    rill::sync::notify n;
    auto a = n.notified();
    EXPECT_FALSE(a.enable());
    n.notify_one();
    EXPECT_TRUE(a.enable()) << "enable() on an enabled waiter reports the notification";
    n.notify_one();  // stored as the permit
    auto b = n.notified();
    EXPECT_TRUE(b.enable()) << "enable() took the stored permit";
    auto c = n.notified();
    n.notify_waiters();
    EXPECT_TRUE(c.enable()) << "created before notify_waiters()";
    mock_task ma(await_ref(&a));
    EXPECT_TRUE(ma.poll().is_ready());
}

TEST(notify, an_enabled_notified_moves_and_keeps_its_place) {
    rill::sync::notify n;
    auto first = n.notified();
    first.enable();
    auto second = make_mock(n.notified());
    EXPECT_TRUE(second.poll().is_pending());
    std::optional<rill::sync::notified> moved(std::move(first));  // relinked in place
    n.notify_one();
    EXPECT_FALSE(second.is_woken()) << "the moved waiter lost its place in the queue";
    mock_task mm(await_ref(&*moved));
    EXPECT_TRUE(mm.poll().is_ready());
    // A chosen (notified) waiter keeps its notification through a move, too.
    auto third = n.notified();
    third.enable();
    n.notify_one();  // second is queued first: it gets this one
    EXPECT_TRUE(second.is_woken());
    n.notify_one();  // now third
    rill::sync::notified third_moved(std::move(third));
    mock_task mt(await_ref(&third_moved));
    EXPECT_TRUE(mt.poll().is_ready());
}

TEST(notify, destroyed_chosen_waiter_forwards_to_the_next) {
    rill::sync::notify n;
    auto b = make_mock(n.notified());
    {
        auto a = make_mock(n.notified());
        EXPECT_TRUE(a.poll().is_pending());
        EXPECT_TRUE(b.poll().is_pending());
        n.notify_one();
        EXPECT_TRUE(a.is_woken());
        EXPECT_FALSE(b.is_woken());
    }  // a is destroyed before it consumed the notification
    EXPECT_TRUE(b.is_woken());
    EXPECT_TRUE(b.poll().is_ready());
}

TEST(notify, destroyed_chosen_waiter_without_successor_leaves_a_permit) {
    rill::sync::notify n;
    {
        auto a = make_mock(n.notified());
        EXPECT_TRUE(a.poll().is_pending());
        n.notify_one();
    }
    auto c = make_mock(n.notified());
    EXPECT_TRUE(c.poll().is_ready());
}

TEST(notify, destroyed_enabled_waiter_chosen_by_notify_one_forwards) {
    rill::sync::notify n;
    auto b = make_mock(n.notified());
    {
        auto a = n.notified();
        a.enable();
        EXPECT_TRUE(b.poll().is_pending());
        n.notify_one();  // picks `a`, which never gets to poll
    }
    EXPECT_TRUE(b.is_woken());
}

TEST(notify, destroyed_waiter_not_chosen_just_leaves) {
    rill::sync::notify n;
    auto c = make_mock(n.notified());
    {
        auto a = make_mock(n.notified());
        auto b = make_mock(n.notified());
        EXPECT_TRUE(a.poll().is_pending());
        EXPECT_TRUE(b.poll().is_pending());
    }
    EXPECT_TRUE(c.poll().is_pending());
    n.notify_one();
    EXPECT_TRUE(c.is_woken());
}

TEST(notify, destroyed_waiter_woken_by_notify_waiters_does_not_forward) {
    rill::sync::notify n;
    auto c = make_mock(n.notified());
    EXPECT_TRUE(c.poll().is_pending());
    {
        auto a = make_mock(n.notified());
        EXPECT_TRUE(a.poll().is_pending());
        n.notify_waiters();
    }
    auto later = make_mock(n.notified());
    EXPECT_TRUE(later.poll().is_pending()) << "notify_waiters left no permit behind";
    EXPECT_TRUE(c.is_woken()) << "c existed at notify_waiters";
}

TEST(notify, waiter_counts_are_exact) {
    rill::sync::notify n;
    auto a = make_mock(n.notified());
    EXPECT_TRUE(a.poll().is_pending());
    EXPECT_EQ(a.waker_count(), 1u);
    EXPECT_TRUE(a.poll().is_pending());  // a poll without a wake registers nothing more
    EXPECT_EQ(a.waker_count(), 1u);
    n.notify_one();
    EXPECT_EQ(a.waker_count(), 0u);
}

// --- across tasks and threads, under both schedulers ---------------------------------------------

class notify_both : public rill_test::both_flavors {};

rill::task<void> pinger(rill::sync::notify* mine, rill::sync::notify* theirs, int rounds, std::atomic<int>* count) {
    for (int i = 0; i < rounds; ++i) {
        co_await mine->notified();
        count->fetch_add(1);
        theirs->notify_one();
    }
}

rill::task<int> ping_pong(int rounds) {
    rill::sync::notify a, b;
    std::atomic<int> count{0};
    auto ha = rill::spawn(pinger(&a, &b, rounds, &count));
    auto hb = rill::spawn(pinger(&b, &a, rounds, &count));
    a.notify_one();
    co_await ha;
    co_await hb;
    co_return count.load();
}

TEST_P(notify_both, ping_pong_between_tasks) {
    auto rt = this->rt();
    const int rounds = static_cast<int>(rill_test::scaled(20'000));
    EXPECT_EQ(rt.block_on(ping_pong(rounds)), 2 * rounds);
}

rill::task<int> wait_count(rill::sync::notify* n, std::atomic<int>* waiting) {
    auto w = n->notified();
    w.enable();
    waiting->fetch_add(1);
    co_await w;
    co_return 1;
}

rill::task<int> broadcast(int tasks) {
    rill::sync::notify n;
    std::atomic<int> waiting{0};
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < tasks; ++i) hs.push_back(rill::spawn(wait_count(&n, &waiting)));
    while (waiting.load() < tasks) co_await rill::yield_now();
    n.notify_waiters();
    int woke = 0;
    for (auto& h : hs) woke += co_await h;
    co_return woke;
}

TEST_P(notify_both, notify_waiters_wakes_many_tasks) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(broadcast(200)), 200);
}

rill::task<int> wait_once(rill::sync::notify* n) {
    co_await n->notified();
    co_return 1;
}

TEST_P(notify_both, notify_from_a_plain_thread) {
    auto rt = this->rt();
    rill::sync::notify n;
    auto h = rt.spawn(wait_once(&n));
    std::thread t([&n] { n.notify_one(); });
    t.join();
    EXPECT_EQ(rt.block_on([](rill::join_handle<int> j) -> rill::task<int> { co_return co_await j; }(std::move(h))), 1);
}

RILL_BOTH_FLAVORS(notify_both);

}  // namespace
