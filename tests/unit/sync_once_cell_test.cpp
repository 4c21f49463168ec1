// rill::sync::once_cell with Tokio's OnceCell semantics: one initialiser at a time, the
// others get its value; a failed (thrown, erroring or cancelled) initialiser lets the
// next waiter try; set/get/initialized.
#include <gtest/gtest.h>

#include <atomic>
#include <expected>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/once_cell.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::sync::once_cell;
using rill::test::make_mock;

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

rill::task<int> forty_two() { co_return 42; }
rill::task<int> seven() { co_return 7; }
rill::task<int> boom() {
    throw std::runtime_error("init failed");
    co_return 0;
}

// mock_task holds values: read the cell's T& through a coroutine that copies it.
template <class T, class F>
rill::task<T> value_of(once_cell<T>* c, F f) {
    co_return co_await c->get_or_init(f);
}

// An initialiser that waits until the test lets it finish (a notify).
rill::sync::notify* g_gate = nullptr;
rill::task<int> gated() {
    co_await g_gate->notified();
    co_return 5;
}

TEST(once_cell, get_or_init_runs_once) {
    once_cell<int> c;
    EXPECT_FALSE(c.initialized());
    EXPECT_EQ(c.get(), nullptr);
    auto a = make_mock(value_of(&c, forty_two));
    EXPECT_EQ(*a.poll(), 42);
    auto b = make_mock(value_of(&c, seven));
    EXPECT_EQ(*b.poll(), 42);
    ASSERT_NE(c.get(), nullptr);
    EXPECT_EQ(*c.get(), 42);
    EXPECT_TRUE(c.initialized());
}

TEST(once_cell, waiters_get_the_value_of_the_running_initialiser) {
    rill::sync::notify gate;
    g_gate = &gate;
    once_cell<int> c;
    auto a = make_mock(value_of(&c, gated));
    auto b = make_mock(value_of(&c, seven));
    ASSERT_TRUE(a.poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    auto s = c.set(1);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().kind, rill::sync::set_error_kind::initializing);
    EXPECT_EQ(s.error().value, 1);
    gate.notify_one();
    EXPECT_EQ(*a.poll(), 5);
    ASSERT_TRUE(b.is_woken());
    EXPECT_EQ(*b.poll(), 5);
}

TEST(once_cell, a_throwing_initialiser_lets_the_next_try) {
    rill::sync::notify gate;
    g_gate = &gate;
    once_cell<int> c;
    auto a = make_mock(value_of(&c, boom));
    EXPECT_THROW(a.poll(), std::runtime_error);
    EXPECT_FALSE(c.initialized());
    auto b = make_mock(value_of(&c, seven));
    EXPECT_EQ(*b.poll(), 7);
}

TEST(once_cell, a_cancelled_initialiser_lets_the_next_waiter_initialise) {
    rill::sync::notify gate;
    g_gate = &gate;
    once_cell<int> c;
    auto a = boxed(value_of(&c, gated));
    auto b = make_mock(value_of(&c, seven));
    ASSERT_TRUE(a->poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    a.reset();  // the initialiser is destroyed mid-way
    ASSERT_TRUE(b.is_woken());
    EXPECT_EQ(*b.poll(), 7);
    EXPECT_EQ(*c.get(), 7);
}

rill::task<std::expected<std::string, int>> fails() { co_return std::unexpected(3); }
rill::task<std::expected<std::string, int>> works() { co_return std::string("ok"); }

TEST(once_cell, get_or_try_init_returns_the_error_and_the_next_tries) {
    once_cell<std::string> c;
    auto a = make_mock(c.get_or_try_init(fails));
    auto ra = a.poll();
    ASSERT_FALSE(ra->has_value());
    EXPECT_EQ(ra->error(), 3);
    EXPECT_FALSE(c.initialized());
    auto b = make_mock(c.get_or_try_init(works));
    auto rb = b.poll();
    ASSERT_TRUE(rb->has_value());
    EXPECT_EQ(***rb, "ok");
    EXPECT_EQ(*c.get(), "ok");
}

TEST(once_cell, set_stores_once) {
    once_cell<std::string> c;
    EXPECT_TRUE(c.set("a").has_value());
    auto again = c.set("b");
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().kind, rill::sync::set_error_kind::already_initialized);
    EXPECT_EQ(again.error().value, "b");
    EXPECT_EQ(*c.get(), "a");
    once_cell<int> pre(9);
    EXPECT_TRUE(pre.initialized());
    auto g = make_mock(value_of(&pre, seven));
    EXPECT_EQ(*g.poll(), 9);
}

class once_cell_rt : public rill_test::both_flavors {};

std::atomic<int> g_inits{0};
rill::task<int> slow_init() {
    g_inits.fetch_add(1);
    co_await rill::yield_now();
    co_return 99;
}

rill::task<int> get_it(once_cell<int>* c) { co_return co_await c->get_or_init(slow_init); }

rill::task<int> many_getters() {
    once_cell<int> c;
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < 64; ++i) hs.push_back(rill::spawn(get_it(&c)));
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
}

TEST_P(once_cell_rt, one_initialiser_among_many_tasks) {
    g_inits = 0;
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(many_getters()), 64 * 99);
    EXPECT_EQ(g_inits.load(), 1);
}

// The cooperative budget inside a branch: with the budget spent, get_or_init's wait for
// the initialiser's permit yields through a helper coroutine, and that helper must resume
// the join or timeout branch awaiting it (it used to hang: the watchdog aborts).
rill::task<int> inits_in_branches() {
    const int n = 3 * static_cast<int>(rill::detail::coop_budget);
    int sum = 0;
    for (int i = 0; i < n; ++i) {  // spends the budget, then joins with it spent
        once_cell<int> c;
        sum += co_await c.get_or_init(seven);
    }
    for (int i = 0; i < n; ++i) {
        once_cell<int> c;
        auto r = co_await rill::future::join(c.get_or_init(seven));
        sum += std::get<0>(r);
    }
    for (int i = 0; i < n; ++i) {
        once_cell<int> c;
        sum += co_await rill::time::timeout(std::chrono::seconds(20), c.get_or_init(seven));
    }
    co_return sum;
}

TEST_P(once_cell_rt, get_or_init_in_a_branch_completes_with_the_budget_spent) {
    rill_test::watchdog dog("once_cell get_or_init in a branch, budget spent", std::chrono::seconds(30));
    auto rt = this->builder().enable_time().build();
    EXPECT_EQ(rt.block_on(inits_in_branches()), 7 * 3 * 3 * static_cast<int>(rill::detail::coop_budget));
}

RILL_BOTH_FLAVORS(once_cell_rt);

}  // namespace
