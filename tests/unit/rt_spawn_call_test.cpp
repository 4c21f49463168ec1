// spawn(rill::call(f, args...)): the task's cell and its root frame in one block.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "rill/detail/frame_alloc.hpp"
#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::drop_counter;

class spawn_call_both : public rill_test::both_flavors {};
RILL_BOTH_FLAVORS(spawn_call_both);

rill::task<int> add(int a, int b) {
    co_await rill::yield_now();
    co_return a + b;
}

rill::task<std::unique_ptr<int>> rebox(std::unique_ptr<int> p, drop_counter d) {
    (void)d;
    co_await rill::yield_now();
    *p += 1;
    co_return p;
}

rill::task<int> fail_with(std::string what) {
    co_await rill::yield_now();
    throw std::runtime_error(what);
}

rill::task<void> wait_on(rill::sync::notify* n, drop_counter d) {
    (void)d;
    co_await n->notified();
}

TEST_P(spawn_call_both, runs_the_call_and_joins_its_value) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on([]() -> rill::task<int> { co_return co_await rill::spawn(rill::call(add, 20, 22)); }()), 42);
}

TEST_P(spawn_call_both, moves_move_only_arguments_and_results) {
    auto rt = this->rt();
    std::atomic<int> drops{0};
    int v = rt.block_on([](std::atomic<int>* drops) -> rill::task<int> {
        auto h = rill::spawn(rill::call(rebox, std::make_unique<int>(6), drop_counter(drops)));
        std::unique_ptr<int> p = co_await h;
        co_return *p;
    }(&drops));
    EXPECT_EQ(v, 7);
    EXPECT_EQ(drops.load(), 1);  // the parameter died with the frame, once
}

TEST_P(spawn_call_both, rethrows_the_task_exception) {
    auto rt = this->rt();
    EXPECT_THROW(
        rt.block_on([]() -> rill::task<int> { co_return co_await rill::spawn(rill::call(fail_with, std::string("boom"))); }()),
        std::runtime_error);
}

rill::task<void> fail_now(std::string what) {
    throw std::runtime_error(what);
    co_return;
}

rill::task<drop_counter> keep(drop_counter d) {
    co_await rill::yield_now();
    co_return d;
}

// A task's output is dropped without a call through its vtable unless its root threw
// (state::failed): check both sides of that, for tasks that fail at once (nobody else
// ever held a ref), after a wait (the COMPLETE transition), and behind a dropped handle,
// and that an output that is a value still has its destructor run.
TEST_P(spawn_call_both, unobserved_failures_are_reported_and_values_dropped) {
    auto l = std::make_shared<rill_test::failure_log>();
    auto rt = rill_test::with_hook(this->builder(), l).build();
    std::atomic<int> drops{0};
    rt.block_on([](std::atomic<int>* drops) -> rill::task<void> {
        rill::spawn(rill::call(fail_now, std::string("at once"))).detach();
        rill::spawn(rill::call(fail_with, std::string("after a wait"))).detach();
        rill::spawn(rill::call(keep, drop_counter(drops))).detach();
        rill::spawn(keep(drop_counter(drops))).detach();
        auto h = rill::spawn(rill::call(fail_now, std::string("handle dropped")));
        while (!h.is_finished()) co_await rill::yield_now();
        // Awaited: observed, so not reported.
        try {
            co_await rill::spawn(rill::call(fail_now, std::string("awaited")));
        } catch (const std::runtime_error&) {
        }
        co_return;
    }(&drops));
    for (int i = 0; i < 10000 && (l->count.load() < 3 || drops.load() < 2); ++i)
        rt.block_on([]() -> rill::task<void> { co_await rill::yield_now(); }());
    EXPECT_EQ(drops.load(), 2);  // each kept value died with its frame
    ASSERT_EQ(l->count.load(), 3);
    std::lock_guard g(l->mutex);
    std::vector<std::string> whats = l->whats;
    std::sort(whats.begin(), whats.end());
    EXPECT_EQ(whats, (std::vector<std::string>{"after a wait", "at once", "handle dropped"}));
}

TEST_P(spawn_call_both, records_the_spawn_site_and_an_id) {
    auto rt = this->rt();
    struct seen {
        std::uint32_t line, expected;
        std::uint64_t id;
    };
    seen s = rt.block_on([]() -> rill::task<seen> {
        auto h = rill::spawn(rill::call(add, 1, 2)); const std::uint32_t line = __LINE__;
        seen out{h.location().line(), line, h.id()};
        co_await h;
        co_return out;
    }());
    EXPECT_EQ(s.line, s.expected);
    EXPECT_NE(s.id, 0u);
}

TEST_P(spawn_call_both, abort_and_shutdown_destroy_idle_fused_tasks) {
    std::atomic<int> drops{0};
    {
        rill::sync::notify never;  // outlives the runtime, whose teardown unregisters the waiters
        auto rt = this->rt();
        rt.block_on([](rill::sync::notify* n, std::atomic<int>* drops) -> rill::task<void> {
            auto aborted = rill::spawn(rill::call(wait_on, n, drop_counter(drops)));
            for (int i = 0; i < 50; ++i) rill::spawn(rill::call(wait_on, n, drop_counter(drops))).detach();
            co_await rill::yield_now();
            aborted.abort();
            bool cancelled = false;
            try {
                co_await aborted;
            } catch (const rill::join_error& e) {
                cancelled = e.is_cancelled();
            }
            EXPECT_TRUE(cancelled);
            EXPECT_EQ(drops->load(), 1);
        }(&never, &drops));
    }  // the runtime's teardown destroys the 50 idle ones
    EXPECT_EQ(drops.load(), 51);
}

TEST_P(spawn_call_both, handle_dropped_before_and_after_completion) {
    auto rt = this->rt();
    std::atomic<int> drops{0};
    rt.block_on([](std::atomic<int>* drops) -> rill::task<void> {
        auto early = rill::spawn(rill::call(rebox, std::make_unique<int>(1), drop_counter(drops)));
        early.detach();
        auto late = rill::spawn(rill::call(rebox, std::make_unique<int>(1), drop_counter(drops)));
        while (!late.is_finished()) co_await rill::yield_now();
        // `late` goes out of scope holding its output: the frame dies with the handle.
    }(&drops));
    EXPECT_TRUE(rill_test::wait_until([&] { return drops.load() == 2; }));
}

// A callable that makes another coroutine frame before the task it returns: the block
// the spawn set aside goes to that other frame, and the task falls back to two blocks.
rill::task<int> inner(int v) { co_return v; }
struct makes_two_frames {
    rill::task<int> operator()(int v) const {
        rill::task<int> first = inner(v);  // takes the fused block
        (void)first;
        return add(v, 1);
    }
};

TEST_P(spawn_call_both, a_call_that_makes_another_frame_first_still_spawns) {
    auto rt = this->rt();
    int v = rt.block_on([]() -> rill::task<int> {
        int sum = 0;
        for (int i = 0; i < 100; ++i) sum += co_await rill::spawn(rill::call(makes_two_frames{}, i));
        co_return sum;
    }());
    EXPECT_EQ(v, 100 * 99 / 2 + 100);
}

// What rill::call refuses at compile time: a callable with state whose operator() is a
// coroutine (its frame would keep a reference to the callable, which dies when spawn
// returns), and reference parameters (they would refer to arguments that die with it).
struct with_state {
    std::string name;
    rill::task<std::size_t> operator()() const { co_return name.size(); }
};
using by_reference = rill::task<std::size_t> (*)(const std::string&);
rill::task<std::size_t> by_value(std::string s) { co_return s.size(); }
inline constexpr auto ref_lambda = [](const std::string& s) -> rill::task<std::size_t> { co_return s.size(); };
inline constexpr auto value_lambda = [](std::string s) -> rill::task<std::size_t> { co_return s.size(); };

template <class... A>
concept deferrable = requires(A&&... a) { rill::call(std::forward<A>(a)...); };

static_assert(!deferrable<with_state>);
static_assert(!deferrable<by_reference, std::string>);
static_assert(!deferrable<decltype(ref_lambda), std::string>);
static_assert(deferrable<decltype(&by_value), std::string>);
static_assert(deferrable<decltype(value_lambda), std::string>);
static_assert(deferrable<makes_two_frames, int>);

TEST_P(spawn_call_both, a_captureless_lambda_with_value_parameters) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on([]() -> rill::task<std::size_t> {
        const std::size_t a = co_await rill::spawn(rill::call(value_lambda, std::string(100, 'y')));
        const std::size_t b = co_await rill::spawn(rill::call(by_value, std::string(20, 'z')));
        co_return a + b;
    }()), 120u);
}

// The point of the form: one block per task, where spawn(f(args)) takes two.
rill::task<void> park(rill::sync::notify* n) { co_await n->notified(); }

TEST(spawn_call, takes_one_block_per_task_where_spawn_of_a_task_takes_two) {
    rill::sync::notify never;  // outlives the runtime, whose teardown unregisters the waiters
    auto rt = rill::builder::new_current_thread().build();
    constexpr std::size_t n = 2000;  // more than any free list holds warm
    auto fresh_for = [&](bool fused) {
        return rt.block_on([](rill::sync::notify* never, bool fused) -> rill::task<std::uint64_t> {
            const auto before = rill::detail::frame_alloc_statistics().fresh_blocks;
            for (std::size_t i = 0; i < n; ++i) {
                if (fused) {
                    rill::spawn(rill::call(park, never)).detach();
                } else {
                    rill::spawn(park(never)).detach();
                }
            }
            co_await rill::yield_now();
            co_return rill::detail::frame_alloc_statistics().fresh_blocks - before;
        }(&never, fused));
    };
    const std::uint64_t fused = fresh_for(true);
    const std::uint64_t plain = fresh_for(false);
    // Blocks of other objects (queues, the owned list) are few next to n.
    EXPECT_GE(fused, n);
    EXPECT_LT(fused, n + n / 4);
    EXPECT_GE(plain, 2 * n);
}

}  // namespace
