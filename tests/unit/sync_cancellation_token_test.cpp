// rill::sync::cancellation_token with tokio_util's semantics: cancel wakes every
// cancelled(), children follow their parent but not the reverse, dropped children leave
// the tree (no leak: ASan checks), drop_guard cancels unless disarmed, cancel safety.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/cancellation_token.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::sync::cancellation_token;
using rill::test::make_mock;

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST(cancellation_token, cancel_wakes_every_waiter_and_later_ones_complete_at_once) {
    cancellation_token t;
    auto copy = t;
    EXPECT_TRUE(copy == t);
    auto a = make_mock(t.cancelled());
    auto b = make_mock(copy.cancelled());
    ASSERT_TRUE(a.poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    EXPECT_FALSE(t.is_cancelled());
    copy.cancel();
    EXPECT_TRUE(t.is_cancelled());
    EXPECT_TRUE(a.is_woken());
    EXPECT_TRUE(b.is_woken());
    EXPECT_TRUE(a.poll().is_ready());
    EXPECT_TRUE(b.poll().is_ready());
    auto c = make_mock(t.cancelled());
    EXPECT_TRUE(c.poll().is_ready());
    t.cancel();  // idempotent
}

TEST(cancellation_token, a_parent_cancels_its_descendants_not_the_reverse) {
    cancellation_token root;
    auto child = root.child_token();
    auto grandchild = child.child_token();
    auto sibling = root.child_token();
    auto w = make_mock(grandchild.cancelled());
    ASSERT_TRUE(w.poll().is_pending());
    grandchild.cancel();
    EXPECT_TRUE(grandchild.is_cancelled());
    EXPECT_FALSE(child.is_cancelled());
    EXPECT_FALSE(root.is_cancelled());
    EXPECT_TRUE(w.poll().is_ready());

    auto w2 = make_mock(sibling.cancelled());
    ASSERT_TRUE(w2.poll().is_pending());
    root.cancel();
    EXPECT_TRUE(child.is_cancelled());
    EXPECT_TRUE(sibling.is_cancelled());
    EXPECT_TRUE(w2.is_woken());
    EXPECT_TRUE(root.child_token().is_cancelled()) << "a child of a cancelled token starts cancelled";
}

TEST(cancellation_token, grandchildren_of_a_dropped_child_are_still_reached) {
    cancellation_token root;
    std::optional<cancellation_token> middle = root.child_token();
    auto leaf = middle->child_token();
    middle.reset();  // leaves the tree; leaf moves up to root
    auto w = make_mock(leaf.cancelled());
    ASSERT_TRUE(w.poll().is_pending());
    root.cancel();
    EXPECT_TRUE(leaf.is_cancelled());
    EXPECT_TRUE(w.is_woken());
}

TEST(cancellation_token, many_dropped_children_do_not_accumulate) {
    // Each child leaves the tree when dropped (ASan/LSan would report a leak otherwise,
    // and cancelling walks only live children).
    cancellation_token root;
    for (int i = 0; i < 10'000; ++i) {
        auto c = root.child_token();
        auto gc = c.child_token();
    }
    auto kept = root.child_token();
    root.cancel();
    EXPECT_TRUE(kept.is_cancelled());
}

TEST(cancellation_token, a_destroyed_waiter_is_unlinked) {
    cancellation_token t;
    auto a = boxed(t.cancelled());
    auto b = make_mock(t.cancelled());
    ASSERT_TRUE(a->poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    EXPECT_EQ(a->waker_count(), 1u);
    a.reset();
    t.cancel();
    EXPECT_TRUE(b.poll().is_ready());
}

TEST(cancellation_token, a_waiter_on_a_dropped_token_keeps_it_in_the_tree) {
    cancellation_token root;
    auto w = [&] {
        auto child = root.child_token();
        return boxed(child.cancelled());  // the awaiter holds its own handle
    }();
    ASSERT_TRUE(w->poll().is_pending());
    root.cancel();
    EXPECT_TRUE(w->is_woken());
    EXPECT_TRUE(w->poll().is_ready());
}

TEST(cancellation_token, drop_guard_cancels_unless_disarmed) {
    cancellation_token t;
    { auto g = t.drop_guard(); }
    EXPECT_TRUE(t.is_cancelled());
    cancellation_token u;
    {
        auto g = u.drop_guard();
        cancellation_token back = g.disarm();
        EXPECT_TRUE(back == u);
    }
    EXPECT_FALSE(u.is_cancelled());
}

class cancellation_rt : public rill_test::both_flavors {};

rill::task<int> until_cancelled(cancellation_token t, std::atomic<int>* started) {
    started->fetch_add(1);
    co_await t.cancelled();
    co_return 1;
}

rill::task<int> cancel_from_thread(cancellation_token root) {
    std::atomic<int> started{0};
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < 50; ++i) hs.push_back(rill::spawn(until_cancelled(i % 2 ? root.child_token() : root, &started)));
    while (started.load() < 50) co_await rill::yield_now();
    std::thread t([root] { root.cancel(); });
    int done = 0;
    for (auto& h : hs) done += co_await h;
    t.join();
    co_return done;
}

TEST_P(cancellation_rt, cancel_from_another_thread_stops_every_task) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(cancel_from_thread(cancellation_token())), 50);
}

rill::task<int> abort_waiting_then_cancel(cancellation_token root) {
    std::atomic<int> started{0};
    std::vector<rill::join_handle<int>> doomed, kept;
    for (int i = 0; i < 10; ++i) doomed.push_back(rill::spawn(until_cancelled(root.child_token(), &started)));
    for (int i = 0; i < 10; ++i) kept.push_back(rill::spawn(until_cancelled(root.child_token(), &started)));
    while (started.load() < 20) co_await rill::yield_now();
    for (auto& h : doomed) h.abort();  // their waiters leave the tree
    for (auto& h : doomed) {
        try {
            co_await h;
        } catch (const rill::join_error&) {
        }
    }
    root.cancel();
    int done = 0;
    for (auto& h : kept) done += co_await h;
    co_return done;
}

TEST_P(cancellation_rt, aborted_waiters_leave_and_the_rest_are_cancelled) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(abort_waiting_then_cancel(cancellation_token())), 10);
}

RILL_BOTH_FLAVORS(cancellation_rt);

}  // namespace
