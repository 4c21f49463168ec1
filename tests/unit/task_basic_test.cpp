#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "rill/rill.hpp"

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

}  // namespace
