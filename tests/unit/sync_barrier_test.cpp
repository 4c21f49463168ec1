// rill::sync::barrier with Tokio's semantics: n arrivals release a generation, exactly
// one leader per generation, reusable; a destroyed waiter is unlinked but counted.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/barrier.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::sync::barrier;
using rill::test::make_mock;

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST(barrier, the_last_arrival_leads_and_releases_the_others) {
    barrier b(3);
    auto x = make_mock(b.wait());
    auto y = make_mock(b.wait());
    ASSERT_TRUE(x.poll().is_pending());
    ASSERT_TRUE(y.poll().is_pending());
    auto z = make_mock(b.wait());
    auto rz = z.poll();
    ASSERT_TRUE(rz.is_ready());
    EXPECT_TRUE(rz->is_leader());
    ASSERT_TRUE(x.is_woken());
    ASSERT_TRUE(y.is_woken());
    EXPECT_FALSE(x.poll()->is_leader());
    EXPECT_FALSE(y.poll()->is_leader());
}

TEST(barrier, it_is_reusable_across_generations) {
    barrier b(2);
    for (int gen = 0; gen < 5; ++gen) {
        auto x = make_mock(b.wait());
        ASSERT_TRUE(x.poll().is_pending()) << "generation " << gen;
        auto y = make_mock(b.wait());
        auto ry = y.poll();
        ASSERT_TRUE(ry.is_ready());
        EXPECT_TRUE(ry->is_leader());
        EXPECT_FALSE(x.poll()->is_leader());
    }
}

TEST(barrier, zero_and_one_never_wait) {
    barrier b0(0), b1(1);
    EXPECT_EQ(b0.size(), 1u);
    auto x = make_mock(b0.wait());
    EXPECT_TRUE(x.poll()->is_leader());
    auto y = make_mock(b1.wait());
    EXPECT_TRUE(y.poll()->is_leader());
}

TEST(barrier, a_destroyed_waiter_is_unlinked_but_its_arrival_counts) {
    barrier b(3);
    auto x = boxed(b.wait());
    auto y = make_mock(b.wait());
    ASSERT_TRUE(x->poll().is_pending());
    ASSERT_TRUE(y.poll().is_pending());
    x.reset();
    auto z = make_mock(b.wait());
    EXPECT_TRUE(z.poll()->is_leader());
    EXPECT_TRUE(y.is_woken());
    EXPECT_TRUE(y.poll().is_ready());
}

class barrier_rt : public rill_test::both_flavors {};

rill::task<void> phase_worker(barrier* b, std::atomic<int>* leaders, std::atomic<int>* phase_count, int phases,
                              std::atomic<bool>* bad) {
    for (int p = 0; p < phases; ++p) {
        phase_count->fetch_add(1);
        auto r = co_await b->wait();
        // After the barrier, every task of this phase has counted.
        if (phase_count->load() < (p + 1) * 8) bad->store(true);
        if (r.is_leader()) leaders->fetch_add(1);
        co_await b->wait();  // nobody starts the next phase before all checked
    }
}

TEST_P(barrier_rt, one_leader_per_generation_across_tasks) {
    auto rt = this->rt();
    barrier b(8);
    std::atomic<int> leaders{0}, count{0};
    std::atomic<bool> bad{false};
    const int phases = 50;
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < 8; ++i) hs.push_back(rt.spawn(phase_worker(&b, &leaders, &count, phases, &bad)));
    for (auto& h : hs) rt.block_on([](rill::join_handle<void> j) -> rill::task<void> { co_await j; }(std::move(h)));
    EXPECT_EQ(leaders.load(), phases);
    EXPECT_FALSE(bad.load());
}

RILL_BOTH_FLAVORS(barrier_rt);

}  // namespace
