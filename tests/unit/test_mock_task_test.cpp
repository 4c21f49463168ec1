// rill::test::mock_task: polling an awaitable by hand (tokio-test's task::spawn).
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"

namespace {

using rill::test::make_mock;
using rill::test::mock_task;

rill::task<int> ready(int v) { co_return v; }

rill::task<void> ready_void() { co_return; }

rill::task<std::string> wait_on(rill::sync::notify* n, int* resumed) {
    co_await n->notified();
    ++*resumed;
    co_return "done";
}

TEST(mock_task, ready_on_first_poll) {
    mock_task m(ready(5));
    EXPECT_FALSE(m.is_woken()) << "nothing registered a waker before the first poll";
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_FALSE(r.is_pending());
    EXPECT_EQ(*r, 5);
    EXPECT_EQ(r.value(), 5);
    EXPECT_TRUE(m.is_complete());
    EXPECT_EQ(m.waker_count(), 0u);
    EXPECT_THROW(m.poll(), std::logic_error) << "polling a completed mock is an error";
}

TEST(mock_task, void_result) {
    mock_task m(ready_void());
    EXPECT_TRUE(m.poll().is_ready());
}

TEST(mock_task, pending_then_ready_after_a_notification) {
    rill::sync::notify n;
    int resumed = 0;
    mock_task m(wait_on(&n, &resumed));
    auto r = m.poll();
    EXPECT_TRUE(r.is_pending());
    EXPECT_THROW((void)*r, std::logic_error) << "a pending result has no value";
    EXPECT_FALSE(m.is_woken());
    EXPECT_EQ(m.waker_count(), 1u) << "the notify holds exactly one waker";
    EXPECT_FALSE(m.is_complete());

    // Not woken: polling again reports pending without resuming anything.
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(resumed, 0);

    n.notify_one();
    EXPECT_TRUE(m.is_woken());
    EXPECT_EQ(m.waker_count(), 0u) << "waking consumed the registration";
    auto done = m.poll();
    ASSERT_TRUE(done.is_ready());
    EXPECT_EQ(*done, "done");
    EXPECT_EQ(resumed, 1);
    EXPECT_FALSE(m.is_woken());
}

TEST(mock_task, oneshot_receive_registration) {
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    auto m = make_mock(std::move(rx));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    EXPECT_FALSE(m.is_woken());
    ASSERT_TRUE(tx.send(3).has_value());
    EXPECT_TRUE(m.is_woken());
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 3);
}

rill::task<int> yield_then(int v) {
    co_await rill::yield_now();
    co_return v;
}

TEST(mock_task, yield_now_is_woken_at_once) {
    mock_task m(yield_then(4));
    EXPECT_TRUE(m.poll().is_pending()) << "yield_now suspends once";
    EXPECT_TRUE(m.is_woken()) << "and reports itself woken";
    EXPECT_EQ(m.waker_count(), 0u);
    auto r = m.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 4);
}

TEST(mock_task, destroying_the_mock_withdraws_its_wakers) {
    rill::sync::notify n;
    int resumed = 0;
    {
        mock_task m(wait_on(&n, &resumed));
        EXPECT_TRUE(m.poll().is_pending());
        EXPECT_EQ(m.waker_count(), 1u);
    }
    // The registration went away with the mock: the next notify_one is stored as a permit.
    n.notify_one();
    EXPECT_EQ(resumed, 0);
    auto m2 = make_mock(n.notified());
    EXPECT_TRUE(m2.poll().is_ready());

    // A receiver owned by the mock is dropped with it: the sender sees the channel closed.
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    {
        auto m3 = make_mock(std::move(rx));
        EXPECT_TRUE(m3.poll().is_pending());
        EXPECT_FALSE(tx.is_closed());
    }
    EXPECT_TRUE(tx.is_closed());
    auto back = tx.send(9);
    ASSERT_FALSE(back.has_value());
    EXPECT_EQ(back.error(), 9);
}

TEST(mock_task, waker_count_follows_two_registrations) {
    rill::sync::notify a, b;
    auto body = [](rill::sync::notify* x, rill::sync::notify* y) -> rill::task<int> {
        co_await x->notified();
        co_await y->notified();
        co_return 2;
    };
    mock_task m(body(&a, &b));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    b.notify_one();  // not waited on yet: becomes b's permit, no waker involved
    EXPECT_FALSE(m.is_woken());
    a.notify_one();
    EXPECT_TRUE(m.is_woken());
    auto r = m.poll();  // passes a, then b's permit
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 2);
}

struct boom : std::runtime_error {
    boom() : std::runtime_error("boom") {}
};

rill::task<int> throw_after(rill::sync::notify* n) {
    co_await n->notified();
    throw boom();
}

TEST(mock_task, poll_rethrows_the_exception) {
    rill::sync::notify n;
    mock_task m(throw_after(&n));
    EXPECT_TRUE(m.poll().is_pending());
    n.notify_one();
    EXPECT_THROW(m.poll(), boom);
    EXPECT_TRUE(m.is_complete());
}

TEST(mock_task, make_mock_accepts_tasks_and_awaitables) {
    auto a = make_mock(ready(1));
    EXPECT_EQ(*a.poll(), 1);
    rill::sync::notify n;
    n.notify_one();
    auto b = make_mock(n.notified());
    EXPECT_TRUE(b.poll().is_ready());
    auto p = make_mock([]() -> rill::task<std::unique_ptr<int>> { co_return std::make_unique<int>(6); }());
    auto r = p.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(**r, 6);
}

TEST(mock_task, spawn_inside_a_mock_throws_logic_error) {
    auto body = []() -> rill::task<bool> {
        try {
            auto h = rill::spawn(ready(1));
            (void)h;
        } catch (const std::logic_error&) {
            co_return true;
        }
        co_return false;
    };
    mock_task m(body());
    EXPECT_TRUE(*m.poll());
}

}  // namespace
