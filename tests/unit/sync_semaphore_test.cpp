// rill::sync::semaphore with Tokio's batch-semaphore semantics: FIFO with partial grants
// (a large request at the head is not starved), close() wakes waiters with
// acquire_error, owned permits, forget, and cancel safety (a destroyed waiter gives back
// what it had been granted, never losing a permit).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/semaphore.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::sync::semaphore;
using rill::sync::semaphore_permit;
using rill::test::make_mock;
using permit_mock = rill::test::mock_task<semaphore_permit>;

/// A heap mock (mock_task does not move), destroyed when the test chooses.
template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST(semaphore, acquire_takes_and_the_permit_gives_back) {
    semaphore s(3);
    EXPECT_EQ(s.available_permits(), 3u);
    {
        auto m = make_mock(s.acquire(2));
        auto r = m.poll();
        ASSERT_TRUE(r.is_ready());
        EXPECT_EQ(r->num_permits(), 2u);
        EXPECT_EQ(s.available_permits(), 1u);
    }
    EXPECT_EQ(s.available_permits(), 3u);
}

TEST(semaphore, try_acquire_reports_no_permits_and_closed) {
    semaphore s(1);
    auto p = s.try_acquire();
    ASSERT_TRUE(p.has_value());
    auto q = s.try_acquire();
    ASSERT_FALSE(q.has_value());
    EXPECT_EQ(q.error(), rill::sync::try_acquire_error::no_permits);
    s.close();
    auto r = s.try_acquire();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), rill::sync::try_acquire_error::closed);
}

TEST(semaphore, a_large_request_at_the_head_is_not_starved_by_small_ones) {
    semaphore s(2);
    auto held = s.try_acquire(2);
    ASSERT_TRUE(held.has_value());
    auto big = make_mock(s.acquire(3));
    auto small = make_mock(s.acquire(1));
    ASSERT_TRUE(big.poll().is_pending());
    ASSERT_TRUE(small.poll().is_pending());
    held->release();  // 2 permits come back: they go to the head (partial grant)
    EXPECT_FALSE(big.is_woken());
    EXPECT_FALSE(small.is_woken()) << "a small request overtook the large one at the head";
    EXPECT_EQ(s.available_permits(), 0u);
    EXPECT_FALSE(s.try_acquire(1).has_value()) << "try_acquire overtook a waiter";
    s.add_permits(1);
    ASSERT_TRUE(big.is_woken());
    EXPECT_FALSE(small.is_woken());
    {
        auto r = big.poll();
        ASSERT_TRUE(r.is_ready());
        EXPECT_EQ(r->num_permits(), 3u);
    }  // the 3 permits come back: one goes to `small`, two to the word
    ASSERT_TRUE(small.is_woken());
    EXPECT_TRUE(small.poll().is_ready());
    EXPECT_EQ(s.available_permits(), 3u);
}

TEST(semaphore, waiters_are_served_in_fifo_order) {
    semaphore s(0);
    std::vector<std::unique_ptr<permit_mock>> ws;
    for (int i = 0; i < 8; ++i) {
        ws.push_back(boxed(s.acquire()));
        ASSERT_TRUE(ws.back()->poll().is_pending());
    }
    std::vector<semaphore_permit> got;
    for (int i = 0; i < 8; ++i) {
        s.add_permits(1);
        for (int j = 0; j < 8; ++j) EXPECT_EQ(ws[j]->is_woken(), j == i) << "after " << i + 1 << " permits, waiter " << j;
        auto r = ws[i]->poll();
        ASSERT_TRUE(r.is_ready());
        got.push_back(std::move(*r));
    }
}

TEST(semaphore, close_wakes_waiters_with_acquire_error_and_keeps_held_permits_valid) {
    semaphore s(2);
    auto held = s.try_acquire(1);
    auto a = make_mock(s.acquire(3));  // partially granted 1
    auto b = make_mock(s.acquire(1));
    ASSERT_TRUE(a.poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    EXPECT_EQ(s.available_permits(), 0u);
    s.close();
    EXPECT_TRUE(s.is_closed());
    ASSERT_TRUE(a.is_woken());
    ASSERT_TRUE(b.is_woken());
    EXPECT_THROW(a.poll(), rill::sync::acquire_error);
    EXPECT_THROW(b.poll(), rill::sync::acquire_error);
    // The partial grant went back; the held permit is still valid and comes back too.
    EXPECT_EQ(s.available_permits(), 1u);
    held->release();
    EXPECT_EQ(s.available_permits(), 2u);
    auto c = make_mock(s.acquire(1));
    EXPECT_THROW(c.poll(), rill::sync::acquire_error);
}

TEST(semaphore, a_destroyed_waiter_leaves_the_queue) {
    semaphore s(0);
    auto a = boxed((s.acquire()));
    auto b = make_mock(s.acquire());
    ASSERT_TRUE(a->poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    EXPECT_EQ(a->waker_count(), 1u);
    a.reset();
    s.add_permits(1);
    ASSERT_TRUE(b.is_woken());
    EXPECT_TRUE(b.poll().is_ready());
}

TEST(semaphore, a_destroyed_head_passes_its_partial_grant_on) {
    semaphore s(2);
    auto held = s.try_acquire(2);
    auto big = boxed((s.acquire(5)));
    auto small = make_mock(s.acquire(2));
    ASSERT_TRUE(big->poll().is_pending());
    ASSERT_TRUE(small.poll().is_pending());
    held->release();  // the big request keeps these 2
    EXPECT_FALSE(small.is_woken());
    big.reset();  // ... and gives them to the next waiter when destroyed
    ASSERT_TRUE(small.is_woken());
    auto r = small.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(s.available_permits(), 0u);
}

TEST(semaphore, a_destroyed_last_waiter_returns_its_partial_grant_to_the_semaphore) {
    semaphore s(1);
    auto big = boxed((s.acquire(3)));
    ASSERT_TRUE(big->poll().is_pending());
    EXPECT_EQ(s.available_permits(), 0u);
    big.reset();
    EXPECT_EQ(s.available_permits(), 1u);
    EXPECT_TRUE(s.try_acquire(1).has_value());
}

TEST(semaphore, permits_granted_to_a_waiter_destroyed_before_it_resumed_are_passed_on) {
    semaphore s(0);
    auto a = boxed((s.acquire(2)));
    auto b = make_mock(s.acquire(1));
    ASSERT_TRUE(a->poll().is_pending());
    ASSERT_TRUE(b.poll().is_pending());
    s.add_permits(2);
    ASSERT_TRUE(a->is_woken());
    EXPECT_FALSE(b.is_woken());
    a.reset();  // granted, never resumed
    ASSERT_TRUE(b.is_woken());
    auto r = b.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(s.available_permits(), 1u);
}

TEST(semaphore, forget_keeps_permits_out) {
    semaphore s(3);
    {
        auto p = s.try_acquire(2);
        p->forget();
    }
    EXPECT_EQ(s.available_permits(), 1u);
    EXPECT_EQ(s.forget_permits(5), 1u);
    EXPECT_EQ(s.available_permits(), 0u);
}

TEST(semaphore, merge_combines_permits) {
    semaphore s(3);
    auto a = s.try_acquire(1);
    auto b = s.try_acquire(2);
    a->merge(std::move(*b));
    EXPECT_EQ(a->num_permits(), 3u);
    EXPECT_EQ(b->num_permits(), 0u);
    a->release();
    EXPECT_EQ(s.available_permits(), 3u);
    semaphore other(1);
    auto c = other.try_acquire();
    auto d = s.try_acquire();
    EXPECT_THROW(d->merge(std::move(*c)), std::invalid_argument);
}

TEST(semaphore, bad_counts_are_clear_errors) {
    EXPECT_THROW(semaphore(semaphore::max_permits + 1), std::invalid_argument);
    semaphore s(semaphore::max_permits);
    EXPECT_THROW(s.add_permits(1), std::overflow_error);
    EXPECT_THROW((void)s.acquire(semaphore::max_permits + 1), std::invalid_argument);
    EXPECT_THROW((void)s.try_acquire(semaphore::max_permits + 1), std::invalid_argument);
}

TEST(semaphore, acquire_outside_a_task_is_a_logic_error_only_when_it_must_wait) {
    semaphore s(0);
    auto w = make_mock(s.acquire());
    EXPECT_TRUE(w.poll().is_pending());  // a mock task is a task
}

// --- on runtimes -------------------------------------------------------------------------

class semaphore_rt : public rill_test::both_flavors {};

rill::task<void> limited(semaphore* s, std::atomic<int>* inside, std::atomic<int>* peak) {
    auto p = co_await s->acquire();
    const int now = inside->fetch_add(1) + 1;
    int seen = peak->load();
    while (now > seen && !peak->compare_exchange_weak(seen, now)) {
    }
    co_await rill::yield_now();
    inside->fetch_sub(1);
}

rill::task<int> run_limited(int tasks) {
    semaphore s(3);
    std::atomic<int> inside{0}, peak{0};
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < tasks; ++i) hs.push_back(rill::spawn(limited(&s, &inside, &peak)));
    for (auto& h : hs) co_await h;
    if (s.available_permits() != 3) co_return -1;
    co_return peak.load();
}

TEST_P(semaphore_rt, limits_concurrency) {
    auto rt = this->rt();
    const int peak = rt.block_on(run_limited(200));
    EXPECT_GE(peak, 1);
    EXPECT_LE(peak, 3);
}

rill::task<std::size_t> hold_owned(rill::sync::owned_semaphore_permit p) {
    co_await rill::yield_now();
    co_return p.num_permits();
}

rill::task<std::size_t> owned_into_another_task(std::shared_ptr<semaphore> s) {
    auto p = co_await rill::sync::acquire_owned(s, 2);
    auto h = rill::spawn(hold_owned(std::move(p)));
    std::size_t n = co_await h;
    co_return n * 100 + s->available_permits();
}

TEST_P(semaphore_rt, an_owned_permit_moves_into_another_task) {
    auto rt = this->rt();
    auto s = std::make_shared<semaphore>(2);
    EXPECT_EQ(rt.block_on(owned_into_another_task(s)), 202u);
    auto o = rill::sync::try_acquire_owned(s, 1);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->semaphore(), s);
}

rill::task<int> wait_then_count(semaphore* s, std::atomic<int>* errors) {
    try {
        auto p = co_await s->acquire();
    } catch (const rill::sync::acquire_error&) {
        errors->fetch_add(1);
    }
    co_return 0;
}

rill::task<int> close_with_waiters(int n) {
    semaphore s(0);
    std::atomic<int> errors{0};
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(rill::spawn(wait_then_count(&s, &errors)));
    for (int i = 0; i < 5; ++i) co_await rill::yield_now();
    s.close();
    for (auto& h : hs) co_await h;
    co_return errors.load();
}

TEST_P(semaphore_rt, close_fails_every_waiting_task) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(close_with_waiters(50)), 50);
}

rill::task<void> take_and_hold(semaphore* s, std::size_t n, std::atomic<int>* asking, std::atomic<int>* got) {
    asking->fetch_add(1);
    auto p = co_await s->acquire(n);
    got->fetch_add(1);
}

rill::task<int> abort_waiting_acquirers() {
    semaphore s(3);
    std::atomic<int> asking{0}, got{0};
    auto held = co_await s.acquire(3);
    std::vector<rill::join_handle<void>> doomed, kept;
    for (int i = 0; i < 4; ++i) doomed.push_back(rill::spawn(take_and_hold(&s, 2, &asking, &got)));
    for (int i = 0; i < 4; ++i) kept.push_back(rill::spawn(take_and_hold(&s, 1, &asking, &got)));
    while (asking.load() < 8) co_await rill::yield_now();
    for (int i = 0; i < 10; ++i) co_await rill::yield_now();
    for (auto& h : doomed) h.abort();  // waiting (or just granted): their permits go on
    held.release();
    for (auto& h : kept) co_await h;
    for (auto& h : doomed) {
        try {
            co_await h;
        } catch (const rill::join_error&) {
        }
    }
    co_return static_cast<int>(s.available_permits());
}

TEST_P(semaphore_rt, aborting_waiting_tasks_loses_no_permit) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(abort_waiting_acquirers()), 3);
}

// The cooperative budget inside a branch: with the budget spent, acquire() yields
// through a helper coroutine before it acquires, and that helper must resume the join or
// timeout branch awaiting it (it used to hang: the watchdog aborts).
rill::task<std::size_t> acquires_in_branches(std::shared_ptr<semaphore> s) {
    const int n = 3 * static_cast<int>(rill::detail::coop_budget);
    std::size_t got = 0;
    for (int i = 0; i < n; ++i) {  // spends the budget, then joins with it spent
        auto p = co_await s->acquire(2);
        got += p.num_permits();
    }
    for (int i = 0; i < n; ++i) {
        auto r = co_await rill::future::join(s->acquire(1));
        got += std::get<0>(r).num_permits();
    }
    for (int i = 0; i < n; ++i) {
        auto p = co_await rill::time::timeout(std::chrono::seconds(20), s->acquire(1));
        got += p.num_permits();
    }
    for (int i = 0; i < n; ++i) {
        auto r = co_await rill::future::join(rill::sync::acquire_owned(s, 1));
        got += std::get<0>(r).num_permits();
    }
    co_return got;
}

TEST_P(semaphore_rt, an_acquire_in_a_branch_completes_with_the_budget_spent) {
    rill_test::watchdog dog("semaphore acquire in a branch, budget spent", std::chrono::seconds(30));
    auto rt = this->builder().enable_time().build();
    auto s = std::make_shared<semaphore>(2);
    EXPECT_EQ(rt.block_on(acquires_in_branches(s)), 5u * 3 * rill::detail::coop_budget);
    EXPECT_EQ(s->available_permits(), 2u);
}

RILL_BOTH_FLAVORS(semaphore_rt);

// close() against another thread that cancels waiters or releases permits between
// close()'s wake batches (close wakes at most 32 waiters per batch and relocks). Every
// waiter queued when close() starts must fail, so no waiter may succeed after an earlier
// one failed; and the head's partial grant must come back: once every permit is returned,
// the semaphore holds all of them again.
class semaphore_close_race : public rill_test::seeded {};

TEST_F(semaphore_close_race, every_queued_waiter_fails_and_no_permit_is_lost) {
    const int rounds = static_cast<int>(rill_test::scaled(200));
    for (int round = 0; round < rounds && !HasFailure(); ++round) {
        semaphore s(0);
        std::vector<std::unique_ptr<permit_mock>> ws;
        ws.push_back(boxed(s.acquire(2)));
        ASSERT_TRUE(ws[0]->poll().is_pending());
        s.add_permits(1);  // the head keeps a partial grant of 1
        // triggered: the other thread acts on the waiters behind close()'s first batch as
        // soon as the head is woken, i.e. while close() wakes that batch, unlocked; else
        // after a random delay, anywhere in close().
        const bool triggered = coin();
        const std::size_t batch = 32;
        const std::size_t n = triggered ? rand(batch, batch + 8) : rand(40, 160);
        for (std::size_t i = 0; i < n; ++i) {
            ws.push_back(boxed(s.acquire(1)));
            ASSERT_TRUE(ws.back()->poll().is_pending());
        }
        // cancel: destroys waiters from the back (close() fails them from the front), so
        // it may take the last one while close() is between two batches; else releases.
        const bool cancel = coin();
        const std::size_t k = triggered ? n + 1 - batch : cancel ? n : rand(1, n);
        const std::uint64_t delay_a = rand(0, 1000), delay_b = rand(0, 1000);
        std::atomic<int> go{0};
        std::thread other([&] {
            go.fetch_add(1);
            while (go.load() < 2) {
            }
            if (triggered) {
                while (!ws[0]->is_woken()) {
                }
            } else {
                rill_test::spin(delay_b);
            }
            for (std::size_t j = 0; j < k; ++j) {
                if (cancel) {
                    ws[ws.size() - 1 - j].reset();
                } else {
                    s.add_permits(1);
                }
            }
        });
        go.fetch_add(1);
        while (go.load() < 2) {
        }
        if (!triggered) rill_test::spin(delay_a);
        s.close();
        other.join();

        const std::size_t total = 1 + (cancel ? 0 : k);
        bool failed_before = false;
        for (std::size_t i = 0; i < ws.size(); ++i) {
            if (!ws[i]) continue;
            ASSERT_TRUE(ws[i]->is_woken()) << "round " << round << ": waiter " << i << " was not woken";
            try {
                auto r = ws[i]->poll();
                ASSERT_TRUE(r.is_ready());
                EXPECT_FALSE(failed_before) << "round " << round << ": waiter " << i
                                            << " got permits after an earlier waiter failed";
            } catch (const rill::sync::acquire_error&) {
                failed_before = true;
            }
            ws[i].reset();  // the permit (if any) went back with r
        }
        ASSERT_TRUE(s.is_closed());
        ASSERT_EQ(s.available_permits(), total)
            << "round " << round << (cancel ? " (cancel" : " (release") << (triggered ? ", triggered)" : ")");
    }
}

}  // namespace
