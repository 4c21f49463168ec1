// rill::future::select, select_biased, join, try_join, by_ref.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <tuple>
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

rill::task<int> value_after(rill::time::duration d, int v) {
    co_await rill::time::sleep(d);
    co_return v;
}

rill::task<int> ready(int v) { co_return v; }

rill::task<void> nothing_after(rill::time::duration d) { co_await rill::time::sleep(d); }

rill::task<int> throws_after(rill::time::duration d) {
    co_await rill::time::sleep(d);
    throw std::runtime_error("boom");
}

// --- join -------------------------------------------------------------------------------

rill::task<std::pair<int, long>> join_two() {
    auto start = instant::now();
    auto [a, b] = co_await fut::join(value_after(2s, 1), value_after(3s, 2));
    co_return std::pair<int, long>(a + b, std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
}

TEST(future_join, runs_branches_concurrently_on_paused_clock) {
    auto rt = paused().build();
    auto [sum, ms] = rt.block_on(join_two());
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(ms, 3000);  // max, not sum
}

rill::task<int> join_mixed() {
    auto r = co_await fut::join(ready(1), nothing_after(1ms), value_after(1ms, 5));
    static_assert(std::is_same_v<decltype(r), std::tuple<int, fut::unit, int>>);
    co_return std::get<0>(r) + std::get<2>(r);
}

TEST(future_join, void_branches_give_unit) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(join_mixed()), 6);
}

rill::task<void> join_all_ready() {
    auto [a, b, c] = co_await fut::join(ready(1), ready(2), ready(3));
    EXPECT_EQ(a + b + c, 6);
}

TEST(future_join, all_ready_completes_without_suspending) {
    auto t = rill::test::mock_task(join_all_ready());
    EXPECT_TRUE(t.poll().is_ready());
}

rill::task<void> set_after(rill::time::duration d, std::atomic<int>* flag) {
    co_await rill::time::sleep(d);
    flag->store(1);
}

rill::task<std::string> join_exception_waits_all(std::atomic<int>* flag) {
    try {
        co_await fut::join(throws_after(1s), set_after(2s, flag));
    } catch (const std::runtime_error& e) {
        co_return std::string(e.what());
    }
    co_return "no exception";
}

TEST(future_join, exception_after_all_finished) {
    auto rt = paused().build();
    std::atomic<int> flag{0};
    EXPECT_EQ(rt.block_on(join_exception_waits_all(&flag)), "boom");
    EXPECT_EQ(flag.load(), 1);  // join waited for the other branch
}

rill::task<long> try_join_fails_fast(std::atomic<int>* dropped) {
    auto start = instant::now();
    auto holder = [](rill::time::duration d, rill_test::drop_counter c) -> rill::task<void> {
        (void)c;
        co_await rill::time::sleep(d);
    };
    try {
        co_await fut::try_join(throws_after(1s), holder(10s, rill_test::drop_counter(dropped)));
    } catch (const std::runtime_error&) {
        // The other branch is gone already.
        EXPECT_EQ(dropped->load(), 1);
        co_return std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count();
    }
    co_return -1;
}

TEST(future_try_join, first_exception_cancels_the_rest) {
    auto rt = paused().build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(try_join_fails_fast(&dropped)), 1000);
}

rill::task<int> try_join_ok() {
    auto [a, b] = co_await fut::try_join(value_after(1s, 4), value_after(2s, 5));
    co_return a * b;
}

TEST(future_try_join, all_succeed) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(try_join_ok()), 20);
}

// --- select -----------------------------------------------------------------------------

rill::task<std::pair<std::size_t, long>> primary_replica(std::atomic<int>* replica_dropped) {
    auto start = instant::now();
    auto replica = [](rill_test::drop_counter c) -> rill::task<int> {
        (void)c;
        co_await rill::time::sleep(3s);
        co_return 3;
    };
    auto r = co_await fut::select(rill::time::sleep(5s), value_after(2s, 2), replica(rill_test::drop_counter(replica_dropped)));
    EXPECT_EQ(replica_dropped->load(), 1);  // destroyed before select returned
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(r.get<1>(), 2);
    co_return std::pair<std::size_t, long>(
        r.index(), std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
}

TEST(future_select, first_wins_losers_destroyed_before_return) {
    auto rt = paused().build();
    std::atomic<int> dropped{0};
    auto [idx, ms] = rt.block_on(primary_replica(&dropped));
    EXPECT_EQ(idx, 1u);
    EXPECT_EQ(ms, 2000);
}

rill::task<int> select_winner_throws() {
    try {
        co_await fut::select(throws_after(1s), value_after(2s, 1));
    } catch (const std::runtime_error&) {
        co_return 1;
    }
    co_return 0;
}

TEST(future_select, winner_exception_rethrows) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(select_winner_throws()), 1);
}

TEST(future_select, biased_picks_first_ready_in_order) {
    auto t = rill::test::mock_task([]() -> rill::task<std::size_t> {
        auto r = co_await fut::select_biased(ready(1), ready(2), ready(3));
        co_return r.index();
    }());
    auto p = t.poll();
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(*p, 0u);
}

rill::task<std::vector<int>> unbiased_counts(int rounds) {
    std::vector<int> wins(3, 0);
    for (int i = 0; i < rounds; ++i) {
        auto r = co_await fut::select(ready(0), ready(1), ready(2));
        ++wins[r.index()];
    }
    co_return wins;
}

TEST(future_select, unbiased_rotates_the_start) {
    auto rt = paused().build();
    auto wins = rt.block_on(unbiased_counts(3000));
    for (int w : wins) EXPECT_GT(w, 500);  // each about 1000; never starved
}

// A notify waiter in the losing branch is withdrawn: a later notify_one stores a permit
// instead of waking a destroyed waiter.
rill::task<void> wait_notify(rill::sync::notify* n) { co_await n->notified(); }

rill::task<bool> loser_waiter_withdrawn(rill::sync::notify* n) {
    auto r = co_await fut::select(wait_notify(n), nothing_after(1s));
    EXPECT_EQ(r.index(), 1u);
    n->notify_one();  // nobody waits: stored as a permit
    auto r2 = co_await fut::select_biased(wait_notify(n), nothing_after(1s));
    co_return r2.index() == 0;
}

TEST(future_select, losing_notify_waiter_is_withdrawn) {
    auto rt = paused().build();
    rill::sync::notify n;
    EXPECT_TRUE(rt.block_on(loser_waiter_withdrawn(&n)));
}

rill::task<bool> loser_oneshot(rill::sync::oneshot::receiver<int>* rx, rill::sync::oneshot::sender<int>* tx) {
    auto recv = [](rill::sync::oneshot::receiver<int>* r) -> rill::task<int> { co_return co_await *r; };
    auto r = co_await fut::select(recv(rx), nothing_after(1s));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_TRUE(tx->send(7).has_value());  // the value stays in the channel
    auto v = rx->try_recv();
    co_return v.has_value() && *v == 7;
}

TEST(future_select, losing_oneshot_receive_loses_its_waiter_not_the_value) {
    auto rt = paused().build();
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    EXPECT_TRUE(rt.block_on(loser_oneshot(&rx, &tx)));
}

// --- select by reference ----------------------------------------------------------------

rill::task<int> slow_op(int* started) {
    ++*started;
    co_await rill::time::sleep(100ms);
    co_return 42;
}

rill::task<int> tick_source(rill::time::interval* iv) {
    co_await iv->tick();
    co_return 1;
}

// The guide's pattern: tokio::pin!(fut); loop { select! { r = &mut fut => ..., v = rx.recv() => ... } }
rill::task<std::tuple<int, int, int, long>> reuse_task_across_selects(bool explicit_ref) {
    auto start = instant::now();
    int started = 0;
    auto op = slow_op(&started);
    rill::time::interval fast(10ms);
    int ticks = 0;
    for (;;) {
        if (explicit_ref) {
            auto r = co_await fut::select(fut::by_ref(op), tick_source(&fast));
            if (r.index() == 0) {
                co_return std::tuple<int, int, int, long>(
                    r.get<0>(), started, ticks,
                    std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
            }
        } else {
            auto r = co_await fut::select(op, tick_source(&fast));
            if (r.index() == 0) {
                co_return std::tuple<int, int, int, long>(
                    r.get<0>(), started, ticks,
                    std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
            }
        }
        ++ticks;
    }
}

TEST(future_select, task_by_reference_keeps_progress_across_iterations) {
    for (bool explicit_ref : {true, false}) {
        auto rt = paused().build();
        auto [v, started, ticks, ms] = rt.block_on(reuse_task_across_selects(explicit_ref));
        EXPECT_EQ(v, 42);
        EXPECT_EQ(started, 1);  // never restarted
        EXPECT_EQ(ms, 100);     // finished when its own sleep did, not 100ms after the last tick
        EXPECT_GE(ticks, 9);
    }
}

rill::task<std::pair<int, long>> reuse_timer_across_selects() {
    auto start = instant::now();
    auto deadline = rill::time::sleep(100ms);
    rill::time::interval fast(10ms);
    int ticks = 0;
    for (;;) {
        auto r = co_await fut::select(deadline, tick_source(&fast));
        if (r.index() == 0) break;
        ++ticks;
    }
    co_return std::pair<int, long>(ticks, std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
}

rill::task<int> yields_then(int v) {
    co_await rill::yield_now();
    co_return v;
}

// Each iteration abandons a task awaited by reference (its relay node is made, then freed
// with the task; the yield lets the task drop the nodes its inbox still holds). The relay
// must go back to its own size class: freed as a smaller branch node, every iteration
// carved a fresh block (and lost 16 bytes).
rill::task<std::uint64_t> relay_churn(int n) {
    for (int i = 0; i < 10; ++i) {  // warm the free lists
        auto op = yields_then(i);
        (void)co_await fut::select_biased(fut::by_ref(op), ready(i));
        co_await rill::yield_now();
    }
    const auto before = rill::detail::frame_alloc_statistics().fresh_blocks;
    for (int i = 0; i < n; ++i) {
        auto op = yields_then(i);
        auto r = co_await fut::select_biased(fut::by_ref(op), ready(i));
        EXPECT_EQ(r.index(), 1u);
        co_await rill::yield_now();
    }
    co_return rill::detail::frame_alloc_statistics().fresh_blocks - before;
}

TEST(future_select, relay_nodes_are_recycled) {
    auto rt = rill::builder::new_current_thread().build();
    constexpr int n = 2000;
    EXPECT_LT(rt.block_on(relay_churn(n)), static_cast<std::uint64_t>(n / 10));
}

TEST(future_select, timer_by_reference_across_iterations) {
    auto rt = paused().build();
    auto [ticks, ms] = rt.block_on(reuse_timer_across_selects());
    EXPECT_EQ(ms, 100);
    EXPECT_GE(ticks, 9);
}

// A task by reference that fires while it is not awaited (parked) completes at the next
// await, without running in between.
rill::task<int> mark_then_sleep(int* stage) {
    *stage = 1;
    co_await rill::time::sleep(50ms);
    *stage = 2;
    co_return 7;
}

rill::task<bool> parked_wake_runs_at_next_await() {
    int stage = 0;
    auto op = mark_then_sleep(&stage);
    auto r = co_await fut::select(op, nothing_after(10ms));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(stage, 1);
    co_await rill::time::sleep(100ms);  // op's sleep fires meanwhile
    EXPECT_EQ(stage, 1);                // ... but op does not run while nobody awaits it
    auto r2 = co_await fut::select_biased(op, nothing_after(1s));
    EXPECT_EQ(stage, 2);
    co_return r2.index() == 0 && r2.get<0>() == 7;
}

TEST(future_select, parked_wake_of_reference_runs_at_next_await) {
    auto rt = paused().build();
    EXPECT_TRUE(rt.block_on(parked_wake_runs_at_next_await()));
}

// Abandoned by a select, then awaited directly (as an rvalue): it continues, once.
rill::task<std::pair<int, int>> abandoned_then_awaited_directly() {
    int started = 0;
    auto op = slow_op(&started);
    auto r = co_await fut::select(op, nothing_after(10ms));
    EXPECT_EQ(r.index(), 1u);
    int v = co_await std::move(op);
    co_return std::pair<int, int>(v, started);
}

TEST(future_select, abandoned_reference_awaited_directly) {
    auto rt = paused().build();
    auto [v, started] = rt.block_on(abandoned_then_awaited_directly());
    EXPECT_EQ(v, 42);
    EXPECT_EQ(started, 1);
}

// A started task abandoned from a task's main line cannot be resumed: a clear error.
rill::task<bool> reawait_without_relay() {
    int started = 0;
    auto op = slow_op(&started);
    {
        auto wrapper = [](rill::task<int>* t) -> rill::task<int> { co_return co_await *t; };
        auto w = wrapper(&op);
        auto m = rill::test::make_mock(std::move(w));  // a separate (mock) task's main line
        EXPECT_TRUE(m.poll().is_pending());
    }  // abandoned: the mock task is gone
    try {
        (void)co_await op;
    } catch (const std::logic_error&) {
        co_return true;
    }
    co_return false;
}

TEST(future_select, reawait_of_abandoned_task_without_relay_throws) {
    auto rt = paused().build();
    EXPECT_TRUE(rt.block_on(reawait_without_relay()));
}

// A task abandoned inside a select and then destroyed releases everything it held.
rill::task<void> holds(rill_test::drop_counter c) {
    (void)c;
    co_await rill::time::sleep(1h);
}

rill::task<int> abandoned_then_destroyed(std::atomic<int>* dropped) {
    {
        auto op = holds(rill_test::drop_counter(dropped));
        co_await fut::select(op, nothing_after(1ms));
        EXPECT_EQ(dropped->load(), 0);
    }
    co_return dropped->load();
}

TEST(future_select, abandoned_reference_destroyed_later) {
    auto rt = paused().build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(abandoned_then_destroyed(&dropped)), 1);
}

// Nested: a reference task that itself runs a select (its branches park with it).
rill::task<int> inner_select_op() {
    auto r = co_await fut::select(value_after(60ms, 1), value_after(80ms, 2));
    co_return r.get<0>() * 10;
}

rill::task<std::pair<int, long>> nested_reference() {
    auto start = instant::now();
    auto op = inner_select_op();
    rill::time::interval fast(7ms);
    for (;;) {
        auto r = co_await fut::select(op, tick_source(&fast));
        if (r.index() == 0)
            co_return std::pair<int, long>(r.get<0>(), std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
    }
}

TEST(future_select, reference_with_nested_select) {
    auto rt = paused().build();
    auto [v, ms] = rt.block_on(nested_reference());
    EXPECT_EQ(v, 10);
    EXPECT_EQ(ms, 60);
}

// One-shot awaiters (those of join, select, join_all, timeout) attach their branches below
// the awaiting node, and only their destructor withdraws them: passed to a combinator by
// reference, one would outlive a losing branch pointing at its freed node. That is a
// compile error (detail/branch.hpp); rvalues, tasks and timers by reference are fine.
using join_aw = decltype(fut::join(std::declval<rill::task<int>>(), std::declval<rill::task<int>>()));
using select_aw = decltype(fut::select(std::declval<rill::task<int>>(), std::declval<rill::time::timer>()));
using join_all_aw = decltype(fut::join_all(std::declval<std::vector<rill::task<int>>>()));
using timeout_aw = decltype(rill::time::timeout(1s, std::declval<rill::task<int>>()));
static_assert(rill::detail::one_shot_awaiter<join_aw> && rill::detail::one_shot_awaiter<select_aw> &&
              rill::detail::one_shot_awaiter<join_all_aw> && rill::detail::one_shot_awaiter<timeout_aw>);
static_assert(!rill::detail::branch_arg_ok<join_aw&> && !rill::detail::branch_arg_ok<select_aw&> &&
              !rill::detail::branch_arg_ok<join_all_aw&> && !rill::detail::branch_arg_ok<timeout_aw&>);
static_assert(rill::detail::branch_arg_ok<join_aw> && rill::detail::branch_arg_ok<timeout_aw>);
static_assert(rill::detail::branch_arg_ok<rill::task<int>&> && rill::detail::branch_arg_ok<rill::time::timer&>);
static_assert(!rill::detail::one_shot_awaiter<fut::ref_awaitable<rill::task<int>>>);

// The leaf operations that queue an intrusive waiter in a primitive are one-shot too:
// awaited again after losing a select they were pushed onto their list a second time
// (a mutex waiter behind lost its wake-up; a watch/broadcast send spun on a self-linked
// list). notified (it re-registers safely) and a oneshot receiver stay allowed.
template <class A>
constexpr bool rejected_by_ref = rill::detail::one_shot_awaiter<A> && !rill::detail::branch_arg_ok<A&>;
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::mutex<int>&>().lock())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::rwlock<int>&>().read())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::rwlock<int>&>().write())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::semaphore&>().acquire())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::mpsc::sender<int>&>().send(1))>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::mpsc::sender<int>&>().reserve())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::mpsc::receiver<int>&>().recv())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::broadcast::receiver<int>&>().recv())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::watch::receiver<int>&>().changed())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::barrier&>().wait())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::sync::cancellation_token&>().cancelled())>);
static_assert(rejected_by_ref<decltype(std::declval<rill::net::tcp_stream&>().readable())>);
static_assert(rill::detail::branch_arg_ok<rill::sync::oneshot::receiver<int>&>);
static_assert(rill::detail::branch_arg_ok<decltype(std::declval<rill::sync::notify&>().notified())&>);

rill::task<int> hold_value(rill::time::duration d, rill_test::drop_counter c) {
    (void)c;
    co_await rill::time::sleep(d);
    co_return 2;
}

// Allowed form of the unsafe by-reference pattern: a join moved into a select that it loses
// is cancelled with its branch (its members are dropped at once, nothing dangles).
rill::task<int> join_moved_into_lost_select(std::atomic<int>* dropped) {
    auto j = fut::join(value_after(50ms, 1), hold_value(60ms, rill_test::drop_counter(dropped)));
    auto r = co_await fut::select_biased(std::move(j), rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(dropped->load(), 1);
    co_await rill::time::sleep(100ms);  // nothing of the join is left to wake
    auto r2 = co_await fut::select_biased(fut::join(ready(1), ready(2)), rill::time::sleep(1s));
    co_return r2.index() == 0 ? std::get<0>(r2.get<0>()) + std::get<1>(r2.get<0>()) : -1;
}

TEST(future_select, one_shot_awaiter_moved_into_a_losing_select_is_cancelled) {
    auto rt = paused().build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(join_moved_into_lost_select(&dropped)), 3);
}

// To keep a join's progress across selects, it runs in a task passed by reference; its
// branches finish while nobody awaits it, and the next select picks the result up.
rill::task<int> joined_sum() {
    auto [a, b] = co_await fut::join(value_after(50ms, 1), value_after(60ms, 2));
    co_return a + b;
}

rill::task<std::pair<int, long>> join_in_task_by_reference() {
    auto start = instant::now();
    auto op = joined_sum();
    auto r = co_await fut::select_biased(op, rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    co_await rill::time::sleep(100ms);  // the join's branches complete meanwhile (parked)
    auto r2 = co_await fut::select_biased(fut::by_ref(op), rill::time::sleep(1s));
    co_return std::pair<int, long>(r2.index() == 0 ? r2.get<0>() : -1,
                                   std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count());
}

TEST(future_select, join_in_a_task_by_reference_keeps_progress) {
    auto rt = paused().build();
    auto [v, ms] = rt.block_on(join_in_task_by_reference());
    EXPECT_EQ(v, 3);
    EXPECT_EQ(ms, 110);
}

// A timeout nested in a select, and a select in a timeout, as rvalues (fresh calls).
rill::task<int> nested_rvalue_combinators() {
    auto r = co_await fut::select_biased(rill::time::timeout(50ms, value_after(10ms, 1)), value_after(30ms, 2));
    int a = r.index() == 0 ? r.get<0>() : -1;
    int b = 0;
    try {
        (void)co_await rill::time::timeout(10ms, fut::select(value_after(1h, 1), value_after(2h, 2)));
    } catch (const rill::time::elapsed&) {
        b = 2;
    }
    co_return a + b;
}

TEST(future_select, one_shot_awaiters_nest_as_rvalues) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(nested_rvalue_combinators()), 3);
}

class future_select_flavors : public rill_test::both_flavors {};

rill::task<int> many_selects(int n) {
    int sum = 0;
    for (int i = 0; i < n; ++i) {
        auto r = co_await fut::select(rill::spawn(ready(i)), rill::time::sleep(1h));
        sum += r.index() == 0 ? 1 : 0;
    }
    co_return sum;
}

TEST_P(future_select_flavors, select_on_spawned_work) {
    auto rt = builder().enable_all().build();
    EXPECT_EQ(rt.block_on(many_selects(2000)), 2000);
}

RILL_BOTH_FLAVORS(future_select_flavors);

}  // namespace
