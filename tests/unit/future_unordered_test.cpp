// rill::future::join_all, try_join_all, futures_unordered, join_set.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

using namespace std::chrono_literals;
namespace fut = rill::future;
using rill::time::instant;

namespace {

rill::builder paused() { return rill::builder::new_current_thread().enable_all().start_paused(true); }

long ms_since(instant start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count();
}

rill::task<int> value_after(rill::time::duration d, int v) {
    co_await rill::time::sleep(d);
    co_return v;
}
rill::task<int> ready(int v) { co_return v; }
rill::task<int> throws_after(rill::time::duration d) {
    co_await rill::time::sleep(d);
    throw std::runtime_error("boom");
}
rill::task<void> hold(rill::time::duration d, rill_test::drop_counter c) {
    (void)c;
    co_await rill::time::sleep(d);
}

// --- join_all ---------------------------------------------------------------------------

rill::task<std::pair<std::vector<int>, long>> join_all_delayed() {
    auto start = instant::now();
    std::vector<rill::task<int>> calls;
    calls.push_back(value_after(300ms, 1));
    calls.push_back(value_after(100ms, 2));
    calls.push_back(value_after(200ms, 3));
    auto r = co_await fut::join_all(std::move(calls));
    co_return std::pair<std::vector<int>, long>(r, ms_since(start));
}

TEST(future_join_all, results_in_input_order_concurrently) {
    auto rt = paused().build();
    auto [r, ms] = rt.block_on(join_all_delayed());
    EXPECT_EQ(r, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(ms, 300);
}

rill::task<std::size_t> join_all_empty() {
    std::vector<rill::task<int>> none;
    auto r = co_await fut::join_all(std::move(none));
    co_return r.size();
}

TEST(future_join_all, empty_range) {
    auto t = rill::test::mock_task(join_all_empty());
    auto p = t.poll();
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(*p, 0u);
}

rill::task<std::uint64_t> join_all_many(int n) {
    std::vector<rill::task<int>> v;
    for (int i = 0; i < n; ++i) v.push_back(ready(i));
    auto r = co_await fut::join_all(std::move(v));
    co_return std::accumulate(r.begin(), r.end(), std::uint64_t{0});
}

TEST(future_join_all, hundred_thousand_ready) {
    auto t = rill::test::mock_task(join_all_many(100000));
    auto p = t.poll();
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(*p, 100000ull * 99999 / 2);
}

rill::task<int> join_all_lvalue_range() {
    std::vector<rill::task<int>> v;
    v.push_back(value_after(1ms, 4));
    v.push_back(value_after(2ms, 5));
    auto r = co_await fut::join_all(v);  // by reference
    co_return r[0] + r[1];
}

TEST(future_join_all, lvalue_range_by_reference) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(join_all_lvalue_range()), 9);
}

rill::task<std::pair<int, long>> try_join_all_fails_fast(std::atomic<int>* dropped) {
    auto start = instant::now();
    std::vector<rill::task<int>> v;
    v.push_back(value_after(5s, 1));
    v.push_back(throws_after(1s));
    v.push_back([](rill_test::drop_counter c) -> rill::task<int> {
        (void)c;
        co_await rill::time::sleep(10s);
        co_return 0;
    }(rill_test::drop_counter(dropped)));
    try {
        co_await fut::try_join_all(std::move(v));
    } catch (const std::runtime_error&) {
        co_return std::pair<int, long>(dropped->load(), ms_since(start));
    }
    co_return std::pair<int, long>(-1, -1);
}

TEST(future_join_all, try_join_all_first_error_cancels_rest) {
    auto rt = paused().build();
    std::atomic<int> dropped{0};
    auto [d, ms] = rt.block_on(try_join_all_fails_fast(&dropped));
    EXPECT_EQ(d, 1);
    EXPECT_EQ(ms, 1000);
}

rill::task<int> join_all_error_waits() {
    std::vector<rill::task<int>> v;
    v.push_back(throws_after(1s));
    v.push_back(value_after(2s, 1));
    auto start = instant::now();
    try {
        co_await fut::join_all(std::move(v));
    } catch (const std::runtime_error&) {
        co_return static_cast<int>(ms_since(start));
    }
    co_return -1;
}

TEST(future_join_all, join_all_rethrows_after_all) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(join_all_error_waits()), 2000);
}

// --- futures_unordered ------------------------------------------------------------------

rill::task<std::vector<int>> unordered_completion_order() {
    fut::futures_unordered<int> set;
    set.push(value_after(300ms, 3));
    set.push(value_after(100ms, 1));
    set.push(value_after(200ms, 2));
    set.push(ready(0));
    EXPECT_EQ(set.size(), 4u);
    std::vector<int> out;
    for (;;) {
        std::optional<int> v = co_await set.next();
        if (!v) break;
        out.push_back(*v);
    }
    EXPECT_TRUE(set.empty());
    co_return out;
}

TEST(future_futures_unordered, completion_order) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(unordered_completion_order()), (std::vector<int>{0, 1, 2, 3}));
}

rill::task<bool> unordered_empty_next() {
    fut::futures_unordered<int> set;
    std::optional<int> v = co_await set.next();
    co_return !v.has_value();
}

TEST(future_futures_unordered, empty_gives_nullopt) {
    auto t = rill::test::mock_task(unordered_empty_next());
    auto p = t.poll();
    ASSERT_TRUE(p.is_ready());
    EXPECT_TRUE(*p);
}

rill::task<std::vector<int>> unordered_exception() {
    fut::futures_unordered<int> set;
    set.push(throws_after(100ms));
    set.push(value_after(200ms, 2));
    std::vector<int> out;
    try {
        (void)co_await set.next();
    } catch (const std::runtime_error&) {
        out.push_back(-1);
    }
    EXPECT_EQ(set.size(), 1u);  // the failed member left the set
    std::optional<int> v = co_await set.next();
    out.push_back(*v);
    co_return out;
}

TEST(future_futures_unordered, member_exception_from_next) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(unordered_exception()), (std::vector<int>{-1, 2}));
}

// next() abandoned by a select: the members keep running/registered; results queue up.
rill::task<std::vector<int>> unordered_in_select_loop() {
    fut::futures_unordered<int> set;
    for (int i = 1; i <= 5; ++i) set.push(value_after(i * 20ms, i));
    rill::time::interval fast(7ms);
    std::vector<int> out;
    while (!set.empty()) {
        auto r = co_await fut::select(set.next(), fast.tick());
        if (r.index() == 0) out.push_back(*r.get<0>());
    }
    co_return out;
}

TEST(future_futures_unordered, next_is_cancel_safe_in_select) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(unordered_in_select_loop()), (std::vector<int>{1, 2, 3, 4, 5}));
}

// Wakes while nobody awaits next() are parked, then run at the next next().
rill::task<std::vector<int>> unordered_parked_wakes() {
    fut::futures_unordered<int> set;
    set.push(value_after(10ms, 1));
    set.push(value_after(20ms, 2));
    set.push(value_after(100ms, 3));
    std::vector<int> out;
    out.push_back(*co_await set.next());
    co_await rill::time::sleep(50ms);  // member 2 wakes meanwhile
    out.push_back(*co_await set.next());
    out.push_back(*co_await set.next());
    co_return out;
}

TEST(future_futures_unordered, parked_wakes_run_at_next) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(unordered_parked_wakes()), (std::vector<int>{1, 2, 3}));
}

// The awaiter of next() / join_next() may not be passed to a combinator by reference: it
// would outlive a losing branch with the set's anchor attached to that branch's freed
// node (a compile error, detail/branch.hpp). A fresh next() per select is the form to use.
using unordered_next_aw = decltype(std::declval<fut::futures_unordered<int>&>().next());
using join_next_aw = decltype(std::declval<fut::join_set<int>&>().join_next());
static_assert(rill::detail::one_shot_awaiter<unordered_next_aw> && rill::detail::one_shot_awaiter<join_next_aw>);
static_assert(!rill::detail::branch_arg_ok<unordered_next_aw&> && !rill::detail::branch_arg_ok<join_next_aw&>);
static_assert(rill::detail::branch_arg_ok<unordered_next_aw> && rill::detail::branch_arg_ok<join_next_aw>);

// next() lost in a select; the member completes while nobody awaits the set (between two
// selects); the next select's fresh next() returns it at once.
rill::task<std::pair<int, long>> next_lost_then_member_done_between_selects() {
    auto start = instant::now();
    fut::futures_unordered<int> set;
    set.push(value_after(50ms, 7));
    auto r = co_await fut::select_biased(set.next(), rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    co_await rill::time::sleep(100ms);  // the member's sleep fires meanwhile (parked)
    auto r2 = co_await fut::select_biased(set.next(), rill::time::sleep(1s));
    EXPECT_EQ(r2.index(), 0u);
    int v = r2.index() == 0 && r2.get<0>() ? *r2.get<0>() : -1;
    EXPECT_TRUE(set.empty());
    co_return std::pair<int, long>(v, ms_since(start));
}

TEST(future_futures_unordered, next_lost_in_select_then_member_done_between_selects) {
    auto rt = paused().build();
    auto [v, ms] = rt.block_on(next_lost_then_member_done_between_selects());
    EXPECT_EQ(v, 7);
    EXPECT_EQ(ms, 110);
}

rill::task<int> push_while_pending(fut::futures_unordered<int>* set) {
    co_await rill::time::sleep(10ms);
    set->push(ready(5));  // a next() is pending in the other branch
    co_await rill::time::sleep(1h);
    co_return 0;
}

rill::task<int> unordered_push_during_next() {
    fut::futures_unordered<int> set;
    set.push(value_after(1s, 1));
    auto r = co_await fut::select(set.next(), push_while_pending(&set));
    EXPECT_EQ(r.index(), 0u);
    co_return *r.get<0>();
}

TEST(future_futures_unordered, push_while_next_pending) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(unordered_push_during_next()), 5);
}

// clear() from another branch while next() waits: the waiter wakes with nullopt (it hung).
rill::task<int> clear_while_pending(fut::futures_unordered<int>* set, rill_test::drop_counter c) {
    (void)c;
    co_await rill::time::sleep(10ms);
    set->clear();
    co_await rill::time::sleep(1h);
    co_return 0;
}

TEST(future_futures_unordered, clear_while_next_pending_returns_nullopt) {
    std::atomic<int> dropped{0};
    auto rt = paused().build();
    rt.block_on([](std::atomic<int>* d) -> rill::task<void> {
        fut::futures_unordered<void> set;
        for (int i = 0; i < 3; ++i) set.push(hold(1h, rill_test::drop_counter(d)));
        fut::futures_unordered<int> ints;
        ints.push(value_after(1h, 1));
        auto start = instant::now();
        auto r = co_await fut::select(ints.next(), clear_while_pending(&ints, rill_test::drop_counter(d)));
        EXPECT_EQ(r.index(), 0u);
        EXPECT_FALSE(r.get<0>().has_value());
        EXPECT_EQ(ms_since(start), 10);
        EXPECT_TRUE(ints.empty());
        // The set is usable afterwards.
        ints.push(ready(7));
        std::optional<int> v = co_await ints.next();
        EXPECT_EQ(v, std::optional<int>(7));
        EXPECT_FALSE((co_await ints.next()).has_value());
    }(&dropped));
    EXPECT_EQ(dropped.load(), 4);  // three members and the clearing branch
}

TEST(future_futures_unordered, destroying_set_destroys_members) {
    std::atomic<int> dropped{0};
    auto rt = paused().build();
    rt.block_on([](std::atomic<int>* d) -> rill::task<void> {
        fut::futures_unordered<void> set;
        for (int i = 0; i < 3; ++i) set.push(hold(1h, rill_test::drop_counter(d)));
        co_await fut::select(set.next(), rill::time::sleep(1ms));
        EXPECT_EQ(d->load(), 0);
    }(&dropped));
    EXPECT_EQ(dropped.load(), 3);
}

rill::task<std::uint64_t> unordered_oneshots(int n, std::uint64_t seed) {
    std::vector<rill::sync::oneshot::sender<int>> txs;
    fut::futures_unordered<int> set;
    auto recv = [](rill::sync::oneshot::receiver<int> rx) -> rill::task<int> { co_return co_await std::move(rx); };
    for (int i = 0; i < n; ++i) {
        auto [tx, rx] = rill::sync::oneshot::channel<int>();
        txs.push_back(std::move(tx));
        set.push(recv(std::move(rx)));
    }
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 g(seed);
    std::shuffle(order.begin(), order.end(), g);
    auto sender = [](std::vector<rill::sync::oneshot::sender<int>>* t, std::vector<int>* o) -> rill::task<void> {
        for (int i : *o) (void)(*t)[i].send(i);
        co_return;
    };
    auto h = rill::spawn(sender(&txs, &order));
    std::uint64_t sum = 0;
    std::size_t count = 0;
    for (;;) {
        std::optional<int> v = co_await set.next();
        if (!v) break;
        sum += *v;
        ++count;
    }
    co_await h;
    EXPECT_EQ(count, static_cast<std::size_t>(n));
    co_return sum;
}

class future_unordered_flavors : public rill_test::both_flavors {};

TEST_P(future_unordered_flavors, oneshots_woken_from_another_task) {
    auto rt = builder().enable_all().build();
    const int n = static_cast<int>(rill_test::scaled(20000));
    EXPECT_EQ(rt.block_on(unordered_oneshots(n, 42)), static_cast<std::uint64_t>(n) * (n - 1) / 2);
}

// --- join_set ---------------------------------------------------------------------------

rill::task<int> square_after(rill::time::duration d, int x) {
    co_await rill::time::sleep(d);
    co_return x * x;
}

rill::task<int> join_set_sum(bool check_order) {
    fut::join_set<int> set;
    for (int i = 1; i <= 10; ++i) set.spawn(square_after(std::chrono::milliseconds(11 - i), i));
    EXPECT_EQ(set.len(), 10u);
    int sum = 0;
    std::vector<int> order;
    for (;;) {
        std::optional<int> v = co_await set.join_next();
        if (!v) break;
        sum += *v;
        order.push_back(*v);
    }
    // Shortest sleep first: 100, 81, ... (on the paused clock, where that is deterministic).
    if (check_order) {
        EXPECT_TRUE(std::is_sorted(order.rbegin(), order.rend()));
    }
    co_return sum;
}

TEST_P(future_unordered_flavors, join_set_joins_all) {
    const bool paused_clock = flavor() == rill::flavor::current_thread;
    auto rt = builder().enable_all().start_paused(paused_clock).build();
    EXPECT_EQ(rt.block_on(join_set_sum(paused_clock)), 385);
}

rill::task<std::vector<std::string>> join_set_errors() {
    fut::join_set<int> set;
    set.spawn(throws_after(1ms));
    std::vector<std::string> out;
    try {
        (void)co_await set.join_next();
    } catch (const std::runtime_error& e) {
        out.push_back(e.what());
    }
    set.spawn(value_after(1h, 1));
    set.abort_all();
    try {
        (void)co_await set.join_next();
    } catch (const rill::join_error& e) {
        out.push_back(e.is_cancelled() ? "cancelled" : "other");
    }
    EXPECT_TRUE(set.empty());
    co_return out;
}

TEST_P(future_unordered_flavors, join_set_surfaces_errors_and_cancellation) {
    auto rt = builder().enable_all().build();
    EXPECT_EQ(rt.block_on(join_set_errors()), (std::vector<std::string>{"boom", "cancelled"}));
}

rill::task<int> join_set_dropped(std::atomic<int>* dropped) {
    {
        fut::join_set<void> set;
        for (int i = 0; i < 5; ++i) set.spawn(hold(1h, rill_test::drop_counter(dropped)));
        co_await rill::time::sleep(1ms);
        EXPECT_EQ(dropped->load(), 0);
    }
    // The aborted tasks are destroyed on their workers; give them a moment.
    for (int i = 0; i < 1000 && dropped->load() < 5; ++i) co_await rill::time::sleep(1ms);
    co_return dropped->load();
}

TEST_P(future_unordered_flavors, destroying_join_set_aborts_tasks) {
    auto rt = builder().enable_all().build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(join_set_dropped(&dropped)), 5);
}

rill::task<int> join_set_shutdown(std::atomic<int>* dropped) {
    fut::join_set<void> set;
    for (int i = 0; i < 5; ++i) set.spawn(hold(1h, rill_test::drop_counter(dropped)));
    co_await set.shutdown();
    EXPECT_TRUE(set.empty());
    co_return dropped->load();
}

TEST_P(future_unordered_flavors, join_set_shutdown_waits_for_all) {
    auto rt = builder().enable_all().build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(join_set_shutdown(&dropped)), 5);
}

rill::task<int> join_set_detach(std::atomic<int>* finished) {
    fut::join_set<void> set;
    auto work = [](std::atomic<int>* f) -> rill::task<void> {
        co_await rill::time::sleep(5ms);
        f->fetch_add(1);
    };
    for (int i = 0; i < 3; ++i) set.spawn(work(finished));
    set.detach_all();
    EXPECT_TRUE(set.empty());
    co_await rill::time::sleep(50ms);
    co_return finished->load();
}

TEST_P(future_unordered_flavors, join_set_detach_all_lets_tasks_run) {
    auto rt = builder().enable_all().build();
    std::atomic<int> finished{0};
    EXPECT_EQ(rt.block_on(join_set_detach(&finished)), 3);
}

// detach_all() from another branch while join_next() waits: the waiter wakes with nullopt
// (it hung) and the tasks run on.
rill::task<int> join_set_detach_while_pending(std::atomic<int>* finished) {
    fut::join_set<void> set;
    auto work = [](std::atomic<int>* f) -> rill::task<void> {
        co_await rill::time::sleep(30ms);
        f->fetch_add(1);
    };
    for (int i = 0; i < 3; ++i) set.spawn(work(finished));
    auto detach = [](fut::join_set<void>* s) -> rill::task<void> {
        co_await rill::time::sleep(5ms);
        s->detach_all();
        co_await rill::time::sleep(1h);
    };
    auto r = co_await fut::select(set.join_next(), detach(&set));
    EXPECT_EQ(r.index(), 0u);
    EXPECT_FALSE(r.get<0>().has_value());
    EXPECT_EQ(finished->load(), 0);
    co_await rill::time::sleep(100ms);
    co_return finished->load();
}

TEST_P(future_unordered_flavors, join_set_detach_all_while_join_next_pending) {
    auto rt = builder().enable_all().build();
    std::atomic<int> finished{0};
    EXPECT_EQ(rt.block_on(join_set_detach_while_pending(&finished)), 3);
}

RILL_BOTH_FLAVORS(future_unordered_flavors);

}  // namespace
