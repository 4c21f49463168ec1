// barrier, cancellation_token and once_cell under races (seeded; RILL_SEED replays):
// the wake (a generation released, a cancel) racing the destruction of a waiter, child
// tokens dropped while their parent is cancelled, and initialisers aborted while many
// tasks wait in get_or_init.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

using rill::test::make_mock;
using rill_test::scaled;

class signals_stress : public rill_test::seeded {};

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST_F(signals_stress, barrier_release_racing_destruction_of_a_waiter) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::barrier> b;
    std::atomic<std::uint64_t> delay{0};
    std::atomic<bool> leader{false};
    rill_test::racer last([&](std::uint64_t) {
        rill_test::spin(delay.load());
        auto z = make_mock(b->wait());
        auto r = z.poll();
        leader = r.is_ready() && r->is_leader();
    });
    for (int i = 0; i < rounds; ++i) {
        b = std::make_unique<rill::sync::barrier>(3);
        auto x = boxed(b->wait());
        auto y = boxed(b->wait());
        ASSERT_TRUE(x->poll().is_pending());
        ASSERT_TRUE(y->poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        last.round([&](std::uint64_t) {
            rill_test::spin(mine);
            x.reset();  // its arrival still counts
        });
        ASSERT_TRUE(leader.load()) << "round " << i;
        ASSERT_TRUE(y->is_woken()) << "round " << i << ": a waiter was not released";
        auto ry = y->poll();
        ASSERT_TRUE(ry.is_ready());
        ASSERT_FALSE(ry->is_leader());
    }
}

TEST_F(signals_stress, cancel_racing_waiter_destruction_and_child_drops) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<rill::sync::cancellation_token> root;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer canceller([&](std::uint64_t) {
        rill_test::spin(delay.load());
        root->cancel();
    });
    for (int i = 0; i < rounds; ++i) {
        root.emplace();
        auto child = std::make_unique<rill::sync::cancellation_token>(root->child_token());
        auto grandchild = child->child_token();
        auto a = boxed(child->cancelled());
        auto b = boxed(grandchild.cancelled());
        auto c = boxed(root->cancelled());
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b->poll().is_pending());
        ASSERT_TRUE(c->poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        const bool drop_child = coin();
        canceller.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
            if (drop_child) child.reset();  // its waiter holds its own handle
        });
        ASSERT_TRUE(b->is_woken()) << "round " << i << ": a grandchild waiter missed the cancel";
        ASSERT_TRUE(c->is_woken()) << "round " << i;
        ASSERT_TRUE(b->poll().is_ready());
        ASSERT_TRUE(c->poll().is_ready());
        ASSERT_TRUE(grandchild.is_cancelled());
    }
}

TEST_F(signals_stress, cancel_racing_registration) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<rill::sync::cancellation_token> tok;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer canceller([&](std::uint64_t) {
        rill_test::spin(delay.load());
        tok->cancel();
    });
    for (int i = 0; i < rounds; ++i) {
        tok.emplace();
        auto child = tok->child_token();
        auto w = boxed(child.cancelled());
        delay = rand(0, 200);
        bool ready = false;
        canceller.round([&](std::uint64_t) { ready = w->poll().is_ready(); });
        if (!ready) {
            ASSERT_TRUE(w->is_woken()) << "round " << i << ": registered after cancel and slept";
            ASSERT_TRUE(w->poll().is_ready());
        }
    }
}

// --- once_cell: initialisers aborted while many tasks wait ----------------------------------

std::atomic<int> g_runs{0};
rill::task<int> slow_value() {
    g_runs.fetch_add(1);
    for (int i = 0; i < 3; ++i) co_await rill::yield_now();
    co_return 77;
}

rill::task<int> getter(rill::sync::once_cell<int>* c) { co_return co_await c->get_or_init(slow_value); }

TEST_F(signals_stress, once_cell_initialisers_aborted_while_others_wait) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    const int rounds = static_cast<int>(scaled(400));
    for (int r = 0; r < rounds; ++r) {
        rill::sync::once_cell<int> cell;
        g_runs = 0;
        std::vector<rill::join_handle<int>> hs;
        for (int i = 0; i < 16; ++i) hs.push_back(rt.spawn(getter(&cell)));
        int aborted = 0;
        for (auto& h : hs) {
            if (coin() && coin()) {
                rill_test::spin(rand(0, 2000));
                h.abort();
            }
        }
        for (auto& h : hs) {
            try {
                const int v = rt.block_on([](rill::join_handle<int> j) -> rill::task<int> { co_return co_await j; }(std::move(h)));
                ASSERT_EQ(v, 77);
            } catch (const rill::join_error&) {
                ++aborted;
            }
        }
        if (aborted < 16) {
            ASSERT_TRUE(cell.initialized()) << "round " << r;
        }
        // One initialiser completes; the others that ran were cancelled part-way.
        ASSERT_LE(g_runs.load(), 1 + aborted) << "round " << r << ": initialisers ran concurrently";
    }
}

}  // namespace
