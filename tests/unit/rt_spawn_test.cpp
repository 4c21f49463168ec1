#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

rill::task<int> value(int v) { co_return v; }

rill::task<void> wait_forever(rill::sync::notify* n) { co_await n->notified(); }

rill::task<int> abort_then_join() {
    rill::sync::notify never;
    auto h = rill::spawn(wait_forever(&never));
    co_await rill::yield_now();
    h.abort();
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        co_return e.is_cancelled() ? 1 : 2;
    }
    co_return 0;
}

TEST(spawn, abort_gives_cancelled_join_error) { EXPECT_EQ(rill::block_on(abort_then_join()), 1); }

rill::task<int> oneshot_roundtrip() {
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    auto sender = [](rill::sync::oneshot::sender<int> s) -> rill::task<void> {
        auto r = s.send(7);
        (void)r;
        co_return;
    };
    rill::spawn(sender(std::move(tx))).detach();
    co_return co_await std::move(rx);
}

TEST(oneshot, roundtrip) { EXPECT_EQ(rill::block_on(oneshot_roundtrip()), 7); }

TEST(runtime, current_thread_runs_spawned_tasks) {
    auto rt = rill::builder::new_current_thread().build();
    auto body = []() -> rill::task<int> {
        auto a = rill::spawn(value(1));
        auto b = rill::spawn(value(2));
        co_return co_await a + co_await b;
    };
    EXPECT_EQ(rt.block_on(body()), 3);
}

// ===========================================================================================
// Every behaviour below runs under both schedulers.

using rill_test::drop_counter;

class spawn_both : public rill_test::both_flavors {};

struct custom_error : std::runtime_error {
    explicit custom_error(int c) : std::runtime_error("custom " + std::to_string(c)), code(c) {}
    int code;
};

rill::task<void> tick() { co_await rill::yield_now(); }

rill::task<int> throw_after_yield(int code) {
    co_await rill::yield_now();
    throw custom_error(code);
}

rill::task<std::unique_ptr<int>> boxed(int v) {
    co_await rill::yield_now();
    co_return std::make_unique<int>(v);
}

// --- join: value, exception, cancellation -------------------------------------------------

rill::task<int> join_value() {
    auto h = rill::spawn(value(41));
    co_return co_await h + 1;
}

rill::task<int> join_move_only() {
    auto h = rill::spawn(boxed(9));
    std::unique_ptr<int> p = co_await std::move(h);
    co_return p ? *p : -1;
}

TEST_P(spawn_both, join_returns_the_value) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(join_value()), 42);
    EXPECT_EQ(rt.block_on(join_move_only()), 9);
}

rill::task<void> void_task(std::atomic<int>* ran) {
    co_await rill::yield_now();
    ran->fetch_add(1);
}

rill::task<int> join_void(std::atomic<int>* ran) {
    auto h = rill::spawn(void_task(ran));
    co_await h;
    co_return ran->load();
}

TEST_P(spawn_both, join_of_void_task_waits_for_it) {
    auto rt = this->rt();
    std::atomic<int> ran{0};
    EXPECT_EQ(rt.block_on(join_void(&ran)), 1);
}

rill::task<int> join_exception() {
    auto h = rill::spawn(throw_after_yield(5));
    try {
        co_await h;
    } catch (const custom_error& e) {
        co_return e.code;
    }
    co_return -1;
}

TEST_P(spawn_both, join_rethrows_the_task_exception_with_its_type) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(join_exception()), 5);
}

TEST_P(spawn_both, block_on_rethrows_the_exception) {
    auto rt = this->rt();
    EXPECT_THROW(rt.block_on(throw_after_yield(1)), custom_error);
    // The runtime is still usable afterwards.
    EXPECT_EQ(rt.block_on(value(3)), 3);
}

rill::task<void> hold_and_wait(drop_counter, rill::sync::notify* n, std::atomic<int>* started) {
    started->fetch_add(1);
    co_await n->notified();
}

struct abort_outcome {
    bool cancelled = false;
    std::uint64_t error_id = 0;
    std::uint64_t handle_id = 0;
    int dropped_before_join_returned = -1;
    bool finished = false;
};

rill::task<abort_outcome> abort_waiting_task(std::atomic<int>* dropped) {
    rill::sync::notify never;
    std::atomic<int> started{0};
    auto h = rill::spawn(hold_and_wait(drop_counter(dropped), &never, &started));
    while (started.load() == 0) co_await rill::yield_now();
    abort_outcome out;
    out.handle_id = h.id();
    h.abort();
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        out.cancelled = e.is_cancelled();
        out.error_id = e.id();
    }
    out.dropped_before_join_returned = dropped->load();
    out.finished = h.is_finished();
    co_return out;
}

TEST_P(spawn_both, abort_cancels_a_waiting_task) {
    auto rt = this->rt();
    std::atomic<int> dropped{0};
    abort_outcome out = rt.block_on(abort_waiting_task(&dropped));
    EXPECT_TRUE(out.cancelled);
    EXPECT_EQ(out.error_id, out.handle_id);
    EXPECT_EQ(out.dropped_before_join_returned, 1) << "the frame is destroyed before the join completes";
    EXPECT_TRUE(out.finished);
}

rill::task<bool> abort_before_first_poll(std::atomic<int>* dropped, std::atomic<int>* started) {
    rill::sync::notify never;
    auto h = rill::spawn(hold_and_wait(drop_counter(dropped), &never, started));
    h.abort();  // on current_thread the task cannot have started yet
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        co_return e.is_cancelled();
    }
    co_return false;
}

TEST_P(spawn_both, abort_of_a_task_that_never_ran) {
    auto rt = this->rt();
    std::atomic<int> dropped{0}, started{0};
    EXPECT_TRUE(rt.block_on(abort_before_first_poll(&dropped, &started)));
    EXPECT_EQ(dropped.load(), 1);
    if (flavor() == rill::flavor::current_thread) {
        EXPECT_EQ(started.load(), 0);
    }
}

rill::task<int> abort_after_completion() {
    auto h = rill::spawn(value(8));
    while (!h.is_finished()) co_await rill::yield_now();
    h.abort();  // too late: a no-op
    h.abort();
    co_return co_await h;
}

TEST_P(spawn_both, abort_after_completion_keeps_the_value) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(abort_after_completion()), 8);
}

rill::task<void> spin_yield(std::atomic<bool>* stop) {
    while (!stop->load()) co_await rill::yield_now();
}

rill::task<bool> abort_running_task_from_itself_side() {
    // A task that keeps yielding: abort takes effect at its next suspension.
    std::atomic<bool> stop{false};
    auto h = rill::spawn(spin_yield(&stop));
    co_await rill::yield_now();
    h.abort();
    bool cancelled = false;
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        cancelled = e.is_cancelled();
    }
    stop = true;
    co_return cancelled;
}

TEST_P(spawn_both, abort_takes_effect_at_the_next_suspension) {
    auto rt = this->rt();
    EXPECT_TRUE(rt.block_on(abort_running_task_from_itself_side()));
}

rill::task<bool> abort_through_abort_handle(std::atomic<int>* dropped) {
    rill::sync::notify never;
    std::atomic<int> started{0};
    auto h = rill::spawn(hold_and_wait(drop_counter(dropped), &never, &started));
    rill::abort_handle ah = h.get_abort_handle();
    rill::abort_handle copy = ah;
    EXPECT_EQ(ah.id(), h.id());
    EXPECT_FALSE(copy.is_finished());
    while (started.load() == 0) co_await rill::yield_now();
    copy.abort();
    bool cancelled = false;
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        cancelled = e.is_cancelled();
    }
    EXPECT_TRUE(ah.is_finished());
    ah.abort();  // after the end: a no-op
    co_return cancelled;
}

TEST_P(spawn_both, abort_handle_cancels_like_abort) {
    auto rt = this->rt();
    std::atomic<int> dropped{0};
    EXPECT_TRUE(rt.block_on(abort_through_abort_handle(&dropped)));
    EXPECT_EQ(dropped.load(), 1);
}

// --- is_finished, detach ------------------------------------------------------------------

rill::task<std::vector<bool>> finished_progression() {
    rill::sync::notify go;
    std::atomic<int> started{0};
    std::atomic<int> dropped{0};
    auto h = rill::spawn(hold_and_wait(drop_counter(&dropped), &go, &started));
    std::vector<bool> seen;
    while (started.load() == 0) co_await rill::yield_now();
    seen.push_back(h.is_finished());
    go.notify_one();
    while (!h.is_finished()) co_await rill::yield_now();
    seen.push_back(h.is_finished());
    co_await h;
    co_return seen;
}

TEST_P(spawn_both, is_finished_turns_true_when_the_task_ends) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(finished_progression()), (std::vector<bool>{false, true}));
}

rill::task<void> wait_then_send(rill::sync::notify* go, rill::sync::oneshot::sender<int> tx, drop_counter) {
    co_await go->notified();
    (void)tx.send(77);
}

rill::task<int> detached_task_runs_to_completion(std::atomic<int>* dropped, bool use_detach) {
    rill::sync::notify go;
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    {
        auto h = rill::spawn(wait_then_send(&go, std::move(tx), drop_counter(dropped)));
        if (use_detach) {
            h.detach();
            EXPECT_EQ(h.id(), 0u);  // a detached handle is empty
        }
    }
    co_await rill::yield_now();
    go.notify_one();
    co_return co_await std::move(rx);
}

TEST_P(spawn_both, dropping_the_handle_detaches_the_task) {
    auto rt = this->rt();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(detached_task_runs_to_completion(&dropped, false)), 77);
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == 1; }));
    EXPECT_EQ(rt.block_on(detached_task_runs_to_completion(&dropped, true)), 77);
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == 2; }));
}

// --- ids and locations ----------------------------------------------------------------------

rill::task<std::vector<std::uint64_t>> many_ids(int n) {
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(rill::spawn(value(i)));
    std::vector<std::uint64_t> ids;
    for (auto& h : hs) {
        ids.push_back(h.id());
        co_await h;
    }
    co_return ids;
}

TEST_P(spawn_both, ids_are_unique_and_nonzero) {
    auto rt = this->rt();
    auto ids = rt.block_on(many_ids(1000));
    auto more = rt.block_on(many_ids(10));
    ids.insert(ids.end(), more.begin(), more.end());
    std::set<std::uint64_t> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size());
    EXPECT_EQ(unique.count(0), 0u);
}

bool is_this_file(const char* f) {
    const std::string s(f);
    return s.size() >= std::strlen("rt_spawn_test.cpp") &&
           s.compare(s.size() - std::strlen("rt_spawn_test.cpp"), std::string::npos, "rt_spawn_test.cpp") == 0;
}

struct site {
    std::uint32_t expected;
    std::uint32_t got;
    bool file_ok;
};

rill::task<site> spawn_site() {
    auto h = rill::spawn(value(1)); const std::uint32_t line = __LINE__;
    site s{line, h.location().line(), is_this_file(h.location().file_name())};
    co_await h;
    co_return s;
}

TEST_P(spawn_both, location_is_the_spawn_site) {
    auto rt = this->rt();
    site s = rt.block_on(spawn_site());
    EXPECT_EQ(s.got, s.expected);
    EXPECT_TRUE(s.file_ok);

    auto h = rt.spawn(value(2)); const std::uint32_t line = __LINE__;
    EXPECT_EQ(h.location().line(), line);
    EXPECT_TRUE(is_this_file(h.location().file_name()));
    auto handle = rt.get_handle();
    auto h2 = handle.spawn(value(3)); const std::uint32_t line2 = __LINE__;
    EXPECT_EQ(h2.location().line(), line2);
    auto hb = rt.spawn_blocking([] { return 4; }); const std::uint32_t line3 = __LINE__;
    EXPECT_EQ(hb.location().line(), line3);
    EXPECT_TRUE(is_this_file(hb.location().file_name()));
    EXPECT_NE(h.id(), h2.id());
    EXPECT_NE(h2.id(), hb.id());
}

// --- exceptions nobody awaits ---------------------------------------------------------------

using rill_test::failure_log;
using rill_test::with_hook;

rill::task<void> throw_now(int code) {
    throw custom_error(code);
    co_return;
}

struct detached_ids {
    std::uint64_t id = 0;
    std::uint32_t line = 0;
};

rill::task<detached_ids> spawn_detached_thrower() {
    auto h = rill::spawn(throw_after_yield(11)); const std::uint32_t line = __LINE__;
    detached_ids out{h.id(), line};
    h.detach();
    co_return out;
}

TEST_P(spawn_both, exception_of_a_detached_task_goes_to_the_hook) {
    auto log = std::make_shared<failure_log>();
    auto rt = with_hook(this->builder(), log).build();
    detached_ids d = rt.block_on(spawn_detached_thrower());
    // Keep driving the runtime until the detached task has run (current_thread needs this).
    while (log->count.load() == 0) rt.block_on(tick());
    std::lock_guard lock(log->mutex);
    ASSERT_EQ(log->ids.size(), 1u);
    EXPECT_EQ(log->ids[0], d.id);
    EXPECT_EQ(log->lines[0], d.line);
    EXPECT_TRUE(is_this_file(log->files[0].c_str()));
    EXPECT_EQ(log->whats[0], "custom 11");
}

rill::task<int> awaited_and_aborted_failures_are_not_reported(std::atomic<int>* dropped) {
    // Awaited: the exception is observed by the awaiter, not reported.
    auto a = rill::spawn(throw_after_yield(1));
    int seen = 0;
    try {
        co_await a;
    } catch (const custom_error&) {
        ++seen;
    }
    // Aborted: a cancelled task is not a failure.
    rill::sync::notify never;
    std::atomic<int> started{0};
    auto b = rill::spawn(hold_and_wait(drop_counter(dropped), &never, &started));
    b.abort();
    try {
        co_await b;
    } catch (const rill::join_error&) {
        ++seen;
    }
    co_return seen;
}

rill::task<void> drop_handle_after_failure() {
    auto h = rill::spawn(throw_now(2));
    while (!h.is_finished()) co_await rill::yield_now();
    // The handle goes away without anyone looking at the exception: that is a report.
}

TEST_P(spawn_both, only_unobserved_exceptions_are_reported) {
    auto log = std::make_shared<failure_log>();
    auto rt = with_hook(this->builder(), log).build();
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(awaited_and_aborted_failures_are_not_reported(&dropped)), 2);
    EXPECT_EQ(log->count.load(), 0);
    rt.block_on(drop_handle_after_failure());
    EXPECT_EQ(log->count.load(), 1);
    std::lock_guard lock(log->mutex);
    ASSERT_EQ(log->whats.size(), 1u);
    EXPECT_EQ(log->whats[0], "custom 2");
}

rill::task<int> many_detached_throwers(int n) {
    for (int i = 0; i < n; ++i) rill::spawn(throw_now(i)).detach();
    // The runtime keeps working.
    auto h = rill::spawn(value(5));
    co_return co_await h;
}

TEST_P(spawn_both, failing_detached_tasks_never_terminate_the_process) {
    auto log = std::make_shared<failure_log>();
    auto rt = with_hook(this->builder(), log).build();
    EXPECT_EQ(rt.block_on(many_detached_throwers(100)), 5);
    while (log->count.load() < 100) rt.block_on(tick());
    EXPECT_EQ(log->count.load(), 100);
}

TEST_P(spawn_both, a_throwing_hook_is_contained) {
    auto rt = this->builder().on_unhandled_exception([](const rill::task_failure&) { throw 1; }).build();
    ::testing::internal::CaptureStderr();
    rt.block_on(drop_handle_after_failure());
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(rt.block_on(value(6)), 6);
    EXPECT_NE(err.find("hook threw"), std::string::npos) << err;
}

TEST_P(spawn_both, default_report_goes_to_stderr) {
    auto rt = this->rt();
    ::testing::internal::CaptureStderr();
    rt.block_on(drop_handle_after_failure());
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("rt_spawn_test.cpp"), std::string::npos) << err;
    EXPECT_NE(err.find("custom 2"), std::string::npos) << err;
}

// --- yield_now --------------------------------------------------------------------------------

rill::task<void> set_flag(std::atomic<bool>* f) {
    f->store(true);
    co_return;
}

rill::task<bool> yield_lets_queued_task_run() {
    std::atomic<bool> flag{false};
    auto h = rill::spawn(set_flag(&flag));
    co_await rill::yield_now();
    const bool seen = flag.load();
    co_await h;
    co_return seen;
}

TEST_P(spawn_both, yield_now_runs_queued_tasks_first) {
    // One worker, so the spawned task can only run when this one yields.
    auto rt = this->rt(1);
    EXPECT_TRUE(rt.block_on(yield_lets_queued_task_run()));
}

rill::task<int> yield_many(int n) {
    for (int i = 0; i < n; ++i) co_await rill::yield_now();
    co_return n;
}

rill::task<int> two_yielders_interleave(std::vector<int>* order) {
    auto a = [](std::vector<int>* o) -> rill::task<void> {
        for (int i = 0; i < 3; ++i) {
            o->push_back(1);
            co_await rill::yield_now();
        }
    };
    auto b = [](std::vector<int>* o) -> rill::task<void> {
        for (int i = 0; i < 3; ++i) {
            o->push_back(2);
            co_await rill::yield_now();
        }
    };
    auto ha = rill::spawn(a(order));
    auto hb = rill::spawn(b(order));
    co_await ha;
    co_await hb;
    co_return 0;
}

TEST_P(spawn_both, yield_now_resumes_and_interleaves) {
    auto rt = this->rt(1);
    EXPECT_EQ(rt.block_on(yield_many(10'000)), 10'000);
    std::vector<int> order;
    rt.block_on(two_yielders_interleave(&order));
    ASSERT_EQ(order.size(), 6u);
    for (std::size_t i = 0; i + 1 < order.size(); ++i) EXPECT_NE(order[i], order[i + 1]) << "at " << i;
}

// --- runtime context -------------------------------------------------------------------------

TEST(spawn_outside, spawn_without_a_runtime_throws_logic_error) {
    EXPECT_THROW((void)rill::spawn(value(1)), std::logic_error);
    EXPECT_THROW((void)rill::spawn_blocking([] { return 1; }), std::logic_error);
    EXPECT_THROW((void)rill::runtime::handle::current(), std::logic_error);
    EXPECT_FALSE(rill::runtime::handle::try_current().has_value());
}

rill::task<int> spawn_through_current_handle() {
    auto h = rill::runtime::handle::current();
    EXPECT_TRUE(rill::runtime::handle::try_current().has_value());
    auto j = h.spawn(value(12));
    co_return co_await j;
}

TEST_P(spawn_both, handle_current_inside_a_task) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(spawn_through_current_handle()), 12);
}

rill::task<int> sum_joined(std::vector<rill::join_handle<int>> hs) {
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
}

TEST_P(spawn_both, handle_from_a_plain_thread_spawns_and_blocks_on) {
    auto rt = this->rt();
    auto handle = rt.get_handle();
    int result = 0;
    std::thread t([&] {
        std::vector<rill::join_handle<int>> hs;
        for (int i = 1; i <= 10; ++i) hs.push_back(handle.spawn(value(i)));
        result = handle.block_on(sum_joined(std::move(hs)));
    });
    t.join();
    EXPECT_EQ(result, 55);
}

rill::task<std::string> block_on_inside_a_task() {
    try {
        (void)rill::runtime::handle::current().block_on(value(1));
    } catch (const std::logic_error& e) {
        co_return std::string(e.what());
    }
    co_return std::string();
}

TEST_P(spawn_both, block_on_inside_a_worker_throws) {
    auto rt = this->rt();
    EXPECT_NE(rt.block_on(block_on_inside_a_task()), "");
}

rill::task<int> nested_spawns(int depth) {
    if (depth == 0) co_return 1;
    auto a = rill::spawn(nested_spawns(depth - 1));
    auto b = rill::spawn(nested_spawns(depth - 1));
    co_return co_await a + co_await b;
}

TEST_P(spawn_both, tasks_spawn_tasks) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(nested_spawns(10)), 1024);
}

rill::task<int> await_handle_in_other_task(rill::join_handle<int> h) { co_return co_await h; }

rill::task<int> pass_handle_along() {
    auto h = rill::spawn(value(31));
    auto relay = rill::spawn(await_handle_in_other_task(std::move(h)));
    co_return co_await relay;
}

TEST_P(spawn_both, join_handle_can_be_awaited_by_another_task) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(pass_handle_along()), 31);
}

TEST_P(spawn_both, alive_task_count_returns_to_zero) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(nested_spawns(6)), 64);
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
}

// The block_on root is not counted (Tokio counts spawned tasks only): inside block_on
// with nothing spawned the count is 0, with one task spawned and waiting it is 1.
rill::task<std::pair<std::size_t, std::size_t>> alive_seen_from_the_root() {
    rill::runtime::handle h = rill::runtime::handle::current();
    const std::size_t before = h.metrics().num_alive_tasks;
    rill::sync::notify go;
    auto waiting = rill::spawn([](rill::sync::notify* n) -> rill::task<void> { co_await n->notified(); }(&go));
    co_await rill::yield_now();
    const std::size_t during = h.metrics().num_alive_tasks;
    go.notify_one();
    co_await waiting;
    co_return std::pair{before, during};
}

TEST_P(spawn_both, alive_task_count_does_not_include_the_block_on_root) {
    auto rt = this->rt();
    auto [before, during] = rt.block_on(alive_seen_from_the_root());
    EXPECT_EQ(before, 0u);
    EXPECT_EQ(during, 1u);
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == 0; }));
}

TEST_P(spawn_both, tasks_spawned_from_outside_run_and_join) {
    auto rt = this->rt();
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(rt.spawn(value(i)));
    EXPECT_EQ(rt.block_on(sum_joined(std::move(hs))), 4950);
}

RILL_BOTH_FLAVORS(spawn_both);

// --- rill::run ---------------------------------------------------------------------------------

rill::task<int> main_like(int code) {
    auto h = rill::spawn(value(code));
    co_return co_await h;
}

rill::task<void> void_main(std::atomic<int>* ran) {
    ran->fetch_add(1);
    co_return;
}

rill::task<int> failing_main() {
    co_await rill::yield_now();
    throw std::runtime_error("main failed");
}

TEST(run, returns_the_int_of_the_main_task) {
    EXPECT_EQ(rill::run(main_like(3)), 3);
    EXPECT_EQ(rill::run(rill::builder::new_current_thread(), main_like(4)), 4);
    std::atomic<int> ran{0};
    EXPECT_EQ(rill::run(void_main(&ran)), 0);
    EXPECT_EQ(ran.load(), 1);
}

TEST(run, exception_escaping_main_gives_exit_code_1) {
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(rill::run(failing_main()), 1);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("main failed"), std::string::npos) << err;
}

}  // namespace
