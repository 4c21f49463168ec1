#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

rill::task<int> forty_two() { co_return 42; }

rill::task<int> add_one(rill::task<int> inner) { co_return 1 + co_await std::move(inner); }

rill::task<void> thrower() {
    throw std::runtime_error("boom");
    co_return;
}

rill::task<std::unique_ptr<int>> make_unique_value(int v) { co_return std::make_unique<int>(v); }

int global_value = 7;
rill::task<int&> ref_task() { co_return global_value; }

TEST(task, is_lazy_until_awaited) {
    bool ran = false;
    auto body = [](bool* flag) -> rill::task<void> {
        *flag = true;
        co_return;
    };
    {
        auto t = body(&ran);
        EXPECT_FALSE(ran);
    }
    EXPECT_FALSE(ran);  // destroyed without running
}

TEST(task, returns_values_through_block_on) {
    EXPECT_EQ(rill::block_on(forty_two()), 42);
    EXPECT_EQ(rill::block_on(add_one(forty_two())), 43);
}

TEST(task, exception_propagates_to_awaiter) {
    EXPECT_THROW(rill::block_on(thrower()), std::runtime_error);
}

TEST(task, move_only_and_reference_results) {
    auto p = rill::block_on(make_unique_value(5));
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 5);
    int& r = rill::block_on(ref_task());
    EXPECT_EQ(&r, &global_value);
}

// Awaiting a task a second time after it completed throws instead of handing out a
// moved-from value (it returned an empty unique_ptr).
rill::task<void> await_twice() {
    rill::task<std::unique_ptr<int>> t = make_unique_value(5);
    std::unique_ptr<int> first = co_await t;
    EXPECT_EQ(*first, 5);
    EXPECT_THROW((void)co_await t, std::logic_error);
    rill::task<void> failing = thrower();
    EXPECT_THROW(co_await failing, std::runtime_error);
    EXPECT_THROW(co_await failing, std::logic_error);  // the exception is delivered once
}

TEST(task, awaiting_a_completed_task_again_throws_logic_error) { rill::block_on(await_twice()); }

rill::task<int> child_value(int x) { co_return x; }
rill::task<std::uint64_t> sync_loop(int n) {
    std::uint64_t sum = 0;
    for (int i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(co_await child_value(i));
    co_return sum;
}

rill::task<std::uint64_t> recurse(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await recurse(depth - 1);
}

TEST(task, ten_million_synchronous_awaits_do_not_grow_the_stack) {
    const int n = 10'000'000;
    EXPECT_EQ(rill::block_on(sync_loop(n)), static_cast<std::uint64_t>(n) * (n - 1) / 2);
}

TEST(task, deep_recursion_runs_in_constant_stack) {
    EXPECT_EQ(rill::block_on(recurse(100'000)), 100'000u);
}

rill::task<int> spawn_and_join() {
    auto h = rill::spawn(forty_two());
    co_return co_await h;
}

TEST(spawn, join_handle_returns_value) { EXPECT_EQ(rill::block_on(spawn_and_join()), 42); }

// --- laziness ------------------------------------------------------------------------------

rill::task<void> record(std::vector<std::string>* log, std::string what) {
    log->push_back(what);
    co_return;
}

rill::task<void> create_then_await(std::vector<std::string>* log) {
    auto t = record(log, "child");  // created: nothing runs yet
    log->push_back("created");
    co_await rill::yield_now();
    log->push_back("before await");
    co_await std::move(t);
    log->push_back("after await");
}

TEST(task, body_runs_only_at_the_await_point) {
    std::vector<std::string> log;
    rill::block_on(create_then_await(&log));
    EXPECT_EQ(log, (std::vector<std::string>{"created", "before await", "child", "after await"}));
}

rill::task<void> create_and_drop(std::vector<std::string>* log, std::atomic<int>* dropped) {
    {
        auto t = [](std::vector<std::string>* l, rill_test::drop_counter) -> rill::task<void> {
            l->push_back("never");
            co_return;
        }(log, rill_test::drop_counter(dropped));
    }
    co_return;
}

TEST(task, dropped_unawaited_task_never_runs_and_destroys_its_arguments) {
    std::vector<std::string> log;
    std::atomic<int> dropped{0};
    rill::block_on(create_and_drop(&log, &dropped));
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(dropped.load(), 1);
}

TEST(task, is_lazy_outside_any_runtime) {
    std::vector<std::string> log;
    {
        auto t = record(&log, "x");
        EXPECT_TRUE(static_cast<bool>(t));
        EXPECT_FALSE(t.is_ready());
    }
    EXPECT_TRUE(log.empty());
}

TEST(task, spawned_task_runs_without_being_awaited) {
    // Spawning is what starts a task: the handle is dropped, the body still runs.
    auto rt = rill::builder::new_current_thread().build();
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    auto body = [](rill::sync::oneshot::sender<int> s) -> rill::task<void> {
        (void)s.send(5);
        co_return;
    };
    rt.spawn(body(std::move(tx))).detach();
    EXPECT_EQ(rt.block_on([](rill::sync::oneshot::receiver<int> r) -> rill::task<int> {
        co_return co_await std::move(r);
    }(std::move(rx))),
              5);
}

// --- ownership -----------------------------------------------------------------------------

TEST(task, moves_transfer_the_frame) {
    std::vector<std::string> log;
    auto a = record(&log, "a");
    auto b = std::move(a);
    EXPECT_FALSE(static_cast<bool>(a));  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_TRUE(static_cast<bool>(b));
    rill::task<void> c;
    EXPECT_FALSE(static_cast<bool>(c));
    c = std::move(b);
    rill::block_on(std::move(c));
    EXPECT_EQ(log, std::vector<std::string>{"a"});
}

rill::task<void> hold_and_wait(rill_test::drop_counter, rill::sync::notify* n, std::atomic<int>* local_dropped) {
    rill_test::drop_counter local(local_dropped);
    co_await n->notified();
}

TEST(task, destroying_a_suspended_task_destroys_its_locals_and_arguments) {
    std::atomic<int> args{0}, locals{0};
    rill::sync::notify n;
    {
        rill::test::mock_task m(hold_and_wait(rill_test::drop_counter(&args), &n, &locals));
        EXPECT_TRUE(m.poll().is_pending());
        EXPECT_EQ(args.load(), 0);
        EXPECT_EQ(locals.load(), 0);
    }
    EXPECT_EQ(args.load(), 1);
    EXPECT_EQ(locals.load(), 1);
    // The cancelled wait no longer holds a registration: the notification becomes a permit.
    n.notify_one();
    auto again = rill::test::make_mock(n.notified());
    EXPECT_TRUE(again.poll().is_ready());
}

// --- exceptions ----------------------------------------------------------------------------

struct custom_error : std::runtime_error {
    explicit custom_error(int c) : std::runtime_error("custom " + std::to_string(c)), code(c) {}
    int code;
};

rill::task<int> throws_after_suspending(int code) {
    co_await rill::yield_now();
    throw custom_error(code);
}

rill::task<int> catches(int code) {
    try {
        co_return co_await throws_after_suspending(code);
    } catch (const custom_error& e) {
        co_return e.code * 10;
    }
}

TEST(task, exception_type_and_payload_survive_the_await) {
    EXPECT_EQ(rill::block_on(catches(4)), 40);
    try {
        rill::block_on(throws_after_suspending(7));
        ADD_FAILURE() << "no exception";
    } catch (const custom_error& e) {
        EXPECT_EQ(e.code, 7);
    }
}

rill::task<int> nested_thrower(int depth) {
    if (depth == 0) throw custom_error(99);
    co_return co_await nested_thrower(depth - 1);
}

TEST(task, exception_crosses_many_frames) {
    try {
        rill::block_on(nested_thrower(1000));
        ADD_FAILURE() << "no exception";
    } catch (const custom_error& e) {
        EXPECT_EQ(e.code, 99);
    }
}

rill::task<void> void_thrower_after_yield() {
    co_await rill::yield_now();
    throw std::logic_error("void");
}

TEST(task, exception_from_void_task) { EXPECT_THROW(rill::block_on(void_thrower_after_yield()), std::logic_error); }

TEST(task, exception_propagates_from_mock_poll) {
    rill::test::mock_task m(throws_after_suspending(3));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_THROW(m.poll(), custom_error);
}

// --- symmetric transfer on both schedulers ----------------------------------------------

class task_both : public rill_test::both_flavors {};

TEST_P(task_both, synchronous_await_chain_runs_in_constant_stack) {
    auto rt = this->rt();
    const int n = static_cast<int>(rill_test::scaled(1'000'000));
    EXPECT_EQ(rt.block_on(sync_loop(n)), static_cast<std::uint64_t>(n) * (n - 1) / 2);
    EXPECT_EQ(rt.block_on(recurse(100'000)), 100'000u);
}

rill::task<std::uint64_t> recurse_yielding(int depth) {
    if (depth == 0) {
        co_await rill::yield_now();
        co_return 0;
    }
    co_return 1 + co_await recurse_yielding(depth - 1);
}

TEST_P(task_both, deep_chain_suspends_and_resumes_on_the_innermost_frame) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(recurse_yielding(50'000)), 50'000u);
}

RILL_BOTH_FLAVORS(task_both);

}  // namespace
