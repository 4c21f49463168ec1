// semaphore, mutex and rwlock under races (seeded; replay with RILL_SEED=...):
// a grant racing the destruction of the waiter it chose (the permits or the lock go on,
// never lost, never duplicated), close racing acquire, a polling acquire racing a
// release, and many tasks contending across the multi-thread runtime while some are
// aborted, with the invariants (mutual exclusion, reader/writer exclusion, permit
// accounting) checked inside the critical sections and a free lock at the end.
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

class locks_stress : public rill_test::seeded {
public:
    bool flip() { return coin(); }
    std::uint64_t pick(std::uint64_t lo, std::uint64_t hi) { return rand(lo, hi); }
};

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST_F(locks_stress, mutex_unlock_racing_destruction_of_the_first_waiter) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::mutex<int>> m;
    std::optional<rill::sync::mutex_guard<int>> held;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer unlocker([&](std::uint64_t) {
        rill_test::spin(delay.load());
        held.reset();  // hands the lock to `a` (or to `b` if `a` is already gone)
    });
    for (int i = 0; i < rounds; ++i) {
        m = std::make_unique<rill::sync::mutex<int>>(0);
        held = m->try_lock();
        auto a = boxed(m->lock());
        auto b = boxed(m->lock());
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b->poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        unlocker.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
        });
        ASSERT_TRUE(b->is_woken()) << "round " << i << ": the lock was lost";
        {
            auto g = b->poll();
            ASSERT_TRUE(g.is_ready());
            ASSERT_FALSE(m->try_lock().has_value()) << "round " << i << ": the lock was duplicated";
        }
        b.reset();
        ASSERT_TRUE(m->try_lock().has_value()) << "round " << i << ": the lock leaked";
    }
}

TEST_F(locks_stress, semaphore_partial_grants_racing_destruction) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::semaphore> s;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer releaser([&](std::uint64_t) {
        rill_test::spin(delay.load());
        s->add_permits(2);
        rill_test::spin(delay.load() / 2);
        s->add_permits(2);
    });
    for (int i = 0; i < rounds; ++i) {
        s = std::make_unique<rill::sync::semaphore>(0);
        auto big = boxed(s->acquire(3));
        auto small = boxed(s->acquire(1));
        ASSERT_TRUE(big->poll().is_pending());
        ASSERT_TRUE(small->poll().is_pending());
        delay = rand(0, 400);
        const std::uint64_t mine = rand(0, 400);
        releaser.round([&](std::uint64_t) {
            rill_test::spin(mine);
            big.reset();  // queued with a partial grant, or fully granted, or not yet
        });
        ASSERT_TRUE(small->is_woken()) << "round " << i << ": permits were lost";
        ASSERT_TRUE(small->poll().is_ready());
        small.reset();
        ASSERT_EQ(s->available_permits(), 4u) << "round " << i << ": permits leaked or duplicated";
    }
}

TEST_F(locks_stress, close_racing_acquire) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::semaphore> s;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer closer([&](std::uint64_t) {
        rill_test::spin(delay.load());
        s->close();
    });
    for (int i = 0; i < rounds; ++i) {
        s = std::make_unique<rill::sync::semaphore>(1);
        std::optional<rill::sync::semaphore_permit> held(*s->try_acquire(1));
        auto a = boxed(s->acquire(2));  // partial grant when `held` comes back
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        const int what = static_cast<int>(rand(0, 2));
        closer.round([&](std::uint64_t) {
            rill_test::spin(mine);
            try {
                (void)a->poll();  // registering while close() runs
            } catch (const rill::sync::acquire_error&) {
            }
            if (what == 0) held.reset();
            if (what == 1) a.reset();
        });
        // Whatever the order: a waiter that registered is woken with the error, a late
        // one fails at once; no permit is lost.
        if (a) {
            if (!a->is_complete()) {
                ASSERT_TRUE(a->is_woken()) << "round " << i << ": a waiter slept through close()";
                EXPECT_THROW(a->poll(), rill::sync::acquire_error);
            }
            a.reset();
        }
        held.reset();
        ASSERT_EQ(s->available_permits(), 1u) << "round " << i;
        ASSERT_TRUE(s->is_closed());
    }
}

TEST_F(locks_stress, rwlock_release_racing_destruction_of_a_waiting_writer) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::unique_ptr<rill::sync::rwlock<int>> l;
    std::optional<rill::sync::rwlock_read_guard<int>> r1, r2;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer releaser([&](std::uint64_t) {
        rill_test::spin(delay.load());
        r1.reset();
        r2.reset();
    });
    for (int i = 0; i < rounds; ++i) {
        l = std::make_unique<rill::sync::rwlock<int>>(0, 8);
        r1 = l->try_read();
        r2 = l->try_read();
        auto w = boxed(l->write());
        auto late = boxed(l->read());
        ASSERT_TRUE(w->poll().is_pending());
        ASSERT_TRUE(late->poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        releaser.round([&](std::uint64_t) {
            rill_test::spin(mine);
            w.reset();
        });
        ASSERT_TRUE(late->is_woken()) << "round " << i << ": the reader behind the writer never woke";
        ASSERT_TRUE(late->poll().is_ready());
        late.reset();
        ASSERT_TRUE(l->try_write().has_value()) << "round " << i << ": reader slots leaked";
    }
}

// --- many tasks on the multi-thread runtime, some aborted ----------------------------------

// Undoes a counter change when the critical section ends, also when the task is aborted
// (destroyed) while suspended inside it: the lock is released by the guard then, too.
template <class C>
struct undo {
    C* c;
    long n;
    ~undo() { *c -= n; }
};

struct mutex_state {
    int inside = 0;
    long value = 0;
};

rill::task<void> mutex_worker(rill::sync::mutex<mutex_state>* m, std::atomic<long>* made, std::atomic<bool>* bad,
                              int iters, int yield_every) {
    for (int i = 0; i < iters; ++i) {
        auto g = co_await m->lock();
        if (g->inside++ != 0) bad->store(true);
        undo<int> out{&g->inside, 1};  // declared after g: runs before the unlock
        g->value += 1;
        made->fetch_add(1, std::memory_order_relaxed);
        if (yield_every > 0 && i % yield_every == 0) co_await rill::yield_now();
    }
}

rill::task<void> rw_worker(rill::sync::rwlock<int>* l, std::atomic<int>* readers, std::atomic<int>* writers,
                           std::atomic<bool>* bad, int iters, bool write) {
    for (int i = 0; i < iters; ++i) {
        if (write) {
            auto g = co_await l->write();
            if (writers->fetch_add(1) != 0 || readers->load() != 0) bad->store(true);
            undo<std::atomic<int>> out{writers, 1};
            *g += 1;
            if (i % 4 == 0) co_await rill::yield_now();
        } else {
            auto g = co_await l->read();
            const int now = readers->fetch_add(1) + 1;
            undo<std::atomic<int>> out{readers, 1};
            if (writers->load() != 0 || now > static_cast<int>(l->max_readers())) bad->store(true);
            if (i % 3 == 0) co_await rill::yield_now();
        }
    }
}

rill::task<void> sem_worker(rill::sync::semaphore* s, std::atomic<long>* in_use, std::atomic<bool>* bad,
                            std::size_t total, int iters, std::size_t n) {
    for (int i = 0; i < iters; ++i) {
        auto p = co_await s->acquire(n);
        if (in_use->fetch_add(static_cast<long>(n)) + static_cast<long>(n) > static_cast<long>(total))
            bad->store(true);
        undo<std::atomic<long>> out{in_use, static_cast<long>(n)};
        if (i % 2 == 0) co_await rill::yield_now();
    }
}

template <class Spawn>
void spawn_and_abort_some(locks_stress& self, rill::runtime& rt, int tasks, Spawn spawn_one) {
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < tasks; ++i) hs.push_back(spawn_one(i));
    for (auto& h : hs) {
        if (self.flip() && self.flip()) {
            rill_test::spin(self.pick(0, 20'000));
            h.abort();
        }
    }
    for (auto& h : hs) {
        try {
            rt.block_on([](rill::join_handle<void> j) -> rill::task<void> { co_await j; }(std::move(h)));
        } catch (const rill::join_error&) {
        }
    }
}

TEST_F(locks_stress, mutex_contended_by_many_tasks_with_aborts) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    rill::sync::mutex<mutex_state> m;
    std::atomic<long> made{0};
    std::atomic<bool> bad{false};
    const int iters = static_cast<int>(scaled(2'000));
    spawn_and_abort_some(*this, rt, 32, [&](int i) {
        return rt.spawn(mutex_worker(&m, &made, &bad, iters, static_cast<int>(rand(0, 1) ? 0 : 1 + i % 5)));
    });
    EXPECT_FALSE(bad.load()) << "two tasks held the mutex at once";
    auto g = m.try_lock();
    ASSERT_TRUE(g.has_value()) << "the mutex was left locked";
    EXPECT_EQ((*g)->value, made.load());
    EXPECT_EQ((*g)->inside, 0);
}

TEST_F(locks_stress, rwlock_contended_by_readers_and_writers_with_aborts) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    rill::sync::rwlock<int> l(0, static_cast<std::uint32_t>(rand(1, 6)));
    std::atomic<int> readers{0}, writers{0};
    std::atomic<bool> bad{false};
    const int iters = static_cast<int>(scaled(1'000));
    spawn_and_abort_some(*this, rt, 32, [&](int i) {
        return rt.spawn(rw_worker(&l, &readers, &writers, &bad, iters, i % 4 == 0));
    });
    EXPECT_FALSE(bad.load()) << "reader/writer exclusion or max_readers violated";
    EXPECT_TRUE(l.try_write().has_value()) << "the rwlock was left held";
}

TEST_F(locks_stress, semaphore_contended_with_mixed_sizes_and_aborts) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    const std::size_t total = rand(3, 8);
    rill::sync::semaphore s(total);
    std::atomic<long> in_use{0};
    std::atomic<bool> bad{false};
    const int iters = static_cast<int>(scaled(1'000));
    spawn_and_abort_some(*this, rt, 32, [&](int) {
        return rt.spawn(sem_worker(&s, &in_use, &bad, total, iters, rand(1, total)));
    });
    EXPECT_FALSE(bad.load()) << "more permits in use than exist";
    EXPECT_EQ(s.available_permits(), total) << "permits were lost";
}

}  // namespace
