// rill::sync::rwlock<T> with Tokio's RwLock semantics: many readers or one writer, FIFO
// and write-preferring (a queued writer blocks later readers), max_readers, owned
// guards, downgrade, and cancel safety.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/rwlock.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill::sync::rwlock;
using rill::test::make_mock;

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST(rwlock, readers_share_and_a_writer_excludes) {
    rwlock<int> l(5);
    auto r1 = make_mock(l.read());
    auto r2 = make_mock(l.read());
    auto a = r1.poll();
    auto b = r2.poll();
    ASSERT_TRUE(a.is_ready());
    ASSERT_TRUE(b.is_ready());
    EXPECT_EQ(**a, 5);
    EXPECT_FALSE(l.try_write().has_value());
    auto w = boxed(l.write());
    ASSERT_TRUE(w->poll().is_pending());
    a->unlock();
    EXPECT_FALSE(w->is_woken());
    b->unlock();
    ASSERT_TRUE(w->is_woken());
    auto g = w->poll();
    ASSERT_TRUE(g.is_ready());
    **g = 6;
    EXPECT_FALSE(l.try_read().has_value());
    g->unlock();
    EXPECT_EQ(**l.try_read(), 6);
}

TEST(rwlock, a_queued_writer_blocks_later_readers) {
    rwlock<int> l(0);
    auto r = l.try_read();
    auto w = boxed(l.write());
    ASSERT_TRUE(w->poll().is_pending());
    auto late = boxed(l.read());
    ASSERT_TRUE(late->poll().is_pending()) << "a reader overtook the waiting writer";
    EXPECT_FALSE(l.try_read().has_value());
    r->unlock();
    ASSERT_TRUE(w->is_woken());
    EXPECT_FALSE(late->is_woken());
    {
        auto g = w->poll();
        ASSERT_TRUE(g.is_ready());
    }
    ASSERT_TRUE(late->is_woken());
    EXPECT_TRUE(late->poll().is_ready());
}

TEST(rwlock, requests_are_served_in_fifo_order) {
    rwlock<std::vector<int>> l;
    auto w0 = l.try_write();
    auto a = boxed(l.read());
    auto b = boxed(l.write());
    auto c = boxed(l.read());
    auto d = boxed(l.read());
    ASSERT_TRUE(a->poll().is_pending());
    ASSERT_TRUE(b->poll().is_pending());
    ASSERT_TRUE(c->poll().is_pending());
    ASSERT_TRUE(d->poll().is_pending());
    w0->unlock();
    EXPECT_TRUE(a->is_woken());
    EXPECT_FALSE(b->is_woken());
    EXPECT_FALSE(c->is_woken());
    {
        auto ga = a->poll();
    }
    EXPECT_TRUE(b->is_woken());
    EXPECT_FALSE(c->is_woken());
    {
        auto gb = b->poll();
        ASSERT_TRUE(gb.is_ready());
    }
    EXPECT_TRUE(c->is_woken());
    EXPECT_TRUE(d->is_woken());
}

TEST(rwlock, max_readers_bounds_concurrent_readers) {
    rwlock<int> l(0, 2);
    EXPECT_EQ(l.max_readers(), 2u);
    auto a = l.try_read();
    auto b = l.try_read();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(l.try_read().has_value());
    auto c = boxed(l.read());
    ASSERT_TRUE(c->poll().is_pending());
    a->unlock();
    EXPECT_TRUE(c->is_woken());
    EXPECT_THROW(rwlock<int>(0, 0), std::invalid_argument);
    EXPECT_THROW(rwlock<int>(0, rwlock<int>::default_max_readers + 1), std::invalid_argument);
}

TEST(rwlock, a_destroyed_writer_at_the_head_gives_back_what_it_collected) {
    rwlock<int> l(0, 4);
    auto r1 = l.try_read();
    auto r2 = l.try_read();
    auto w = boxed(l.write());
    ASSERT_TRUE(w->poll().is_pending());
    auto late = boxed(l.read());
    ASSERT_TRUE(late->poll().is_pending());
    r1->unlock();  // the writer collects this slot
    EXPECT_FALSE(late->is_woken());
    w.reset();     // ... and gives it back: the reader behind it proceeds
    ASSERT_TRUE(late->is_woken());
    auto g = late->poll();
    ASSERT_TRUE(g.is_ready());
    r2->unlock();
    g->unlock();
    EXPECT_TRUE(l.try_write().has_value());
}

TEST(rwlock, a_write_lock_handed_to_a_destroyed_waiter_goes_on) {
    rwlock<int> l(0);
    auto r = l.try_read();
    auto w = boxed(l.write());
    auto late = boxed(l.read());
    ASSERT_TRUE(w->poll().is_pending());
    ASSERT_TRUE(late->poll().is_pending());
    r->unlock();
    ASSERT_TRUE(w->is_woken());
    w.reset();
    ASSERT_TRUE(late->is_woken());
    EXPECT_TRUE(late->poll().is_ready());
}

// An owned waiter may hold the last reference to its rwlock: destroying it must withdraw
// from the lock's queue before it lets the lock go (ASan catches the use-after-free this
// guards against; the debug preset runs it).
struct counted {
    std::atomic<int>* drops;
    ~counted() { drops->fetch_add(1); }
};

TEST(rwlock, an_owned_writer_holding_the_last_reference_is_destroyed_safely) {
    std::atomic<int> drops{0};
    auto l = std::make_shared<rwlock<counted>>(counted{&drops}, 4);
    drops = 0;
    auto held = rill::sync::try_read_owned(l);
    ASSERT_TRUE(held.has_value());
    auto w = boxed(rill::sync::write_owned(std::move(l)));
    ASSERT_TRUE(w->poll().is_pending());
    held.reset();  // the writer collects the last slot: granted, holding the only reference
    ASSERT_TRUE(w->is_woken());
    EXPECT_EQ(drops.load(), 0) << "the waiter must keep its rwlock alive";
    w.reset();
    EXPECT_EQ(drops.load(), 1);
}

TEST(rwlock, an_owned_reader_holding_the_last_reference_is_destroyed_safely) {
    std::atomic<int> drops{0};
    auto l = std::make_shared<rwlock<counted>>(counted{&drops});
    drops = 0;
    auto held = rill::sync::try_write_owned(l);
    ASSERT_TRUE(held.has_value());
    auto r = boxed(rill::sync::read_owned(std::move(l)));
    ASSERT_TRUE(r->poll().is_pending());
    held.reset();
    ASSERT_TRUE(r->is_woken());
    EXPECT_EQ(drops.load(), 0) << "the waiter must keep its rwlock alive";
    r.reset();
    EXPECT_EQ(drops.load(), 1);
}

TEST(rwlock, downgrade_lets_readers_in_but_not_writers) {
    rwlock<int> l(1);
    auto w = l.try_write();
    auto waiting_reader = boxed(l.read());
    ASSERT_TRUE(waiting_reader->poll().is_pending());
    auto r = std::move(*w).downgrade();
    EXPECT_EQ(*r, 1);
    EXPECT_TRUE(waiting_reader->is_woken());
    EXPECT_FALSE(l.try_write().has_value());
    EXPECT_TRUE(l.try_read().has_value());
}

TEST(rwlock, get_mut_and_into_inner) {
    rwlock<std::string> l(std::string("x"));
    l.get_mut() += "y";
    {
        auto r = l.try_read();
        EXPECT_THROW(l.get_mut(), std::logic_error);
    }
    EXPECT_EQ(std::move(l).into_inner(), "xy");
}

class rwlock_rt : public rill_test::both_flavors {};

rill::task<void> reader(rwlock<std::map<int, int>>* l, int rounds, std::atomic<int>* bad) {
    for (int i = 0; i < rounds; ++i) {
        auto g = co_await l->read();
        // Writers keep the two entries equal; a reader must never see them differ.
        if (g->at(0) != g->at(1)) bad->fetch_add(1);
        if (i % 5 == 0) co_await rill::yield_now();
    }
}

rill::task<void> writer(rwlock<std::map<int, int>>* l, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        auto g = co_await l->write();
        (*g)[0] += 1;
        if (i % 3 == 0) co_await rill::yield_now();
        (*g)[1] += 1;
    }
}

rill::task<int> readers_and_writers(int rounds) {
    rwlock<std::map<int, int>> l(std::map<int, int>{{0, 0}, {1, 0}});
    std::atomic<int> bad{0};
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < 8; ++i) hs.push_back(rill::spawn(reader(&l, rounds, &bad)));
    for (int i = 0; i < 3; ++i) hs.push_back(rill::spawn(writer(&l, rounds)));
    for (auto& h : hs) co_await h;
    auto g = co_await l.read();
    if (bad.load() != 0) co_return -1;
    co_return g->at(0);
}

TEST_P(rwlock_rt, readers_never_see_a_half_write) {
    auto rt = this->rt();
    const int rounds = static_cast<int>(rill_test::scaled(2'000));
    EXPECT_EQ(rt.block_on(readers_and_writers(rounds)), 3 * rounds);
}

rill::task<int> owned_read(rill::sync::owned_rwlock_read_guard<int> g) {
    co_await rill::yield_now();
    co_return *g;
}

rill::task<int> owned_guards(std::shared_ptr<rwlock<int>> l) {
    {
        auto w = co_await rill::sync::write_owned(l);
        *w = 9;
    }
    auto r = co_await rill::sync::read_owned(l);
    auto h = rill::spawn(owned_read(std::move(r)));
    int v = co_await h;
    auto w2 = rill::sync::try_write_owned(l);
    co_return w2.has_value() ? v : -1;
}

TEST_P(rwlock_rt, owned_guards_move_into_other_tasks) {
    auto rt = this->rt();
    auto l = std::make_shared<rwlock<int>>(0);
    EXPECT_EQ(rt.block_on(owned_guards(l)), 9);
    EXPECT_TRUE(rill::sync::try_read_owned(l).has_value());
}

// The cooperative budget inside a branch: with the budget spent, read() and write() yield
// through a helper coroutine before they acquire, and that helper must resume the join or
// timeout branch awaiting it (it used to hang: the watchdog aborts).
rill::task<int> locks_in_branches(std::shared_ptr<rwlock<int>> l) {
    const int n = 3 * static_cast<int>(rill::detail::coop_budget);
    for (int i = 0; i < n; ++i) {  // spends the budget, then joins with it spent
        auto g = co_await l->write();
        ++*g;
    }
    for (int i = 0; i < n; ++i) {
        auto r = co_await rill::future::join(l->write());
        ++*std::get<0>(r);
    }
    for (int i = 0; i < n; ++i) {
        auto g = co_await rill::time::timeout(std::chrono::seconds(20), l->write());
        ++*g;
    }
    for (int i = 0; i < n; ++i) {
        auto r = co_await rill::future::join(l->read(), rill::sync::read_owned(l));
        if (*std::get<0>(r) != *std::get<1>(r)) co_return -1;
    }
    for (int i = 0; i < n; ++i) {
        auto r = co_await rill::future::join(rill::sync::write_owned(l));
        ++*std::get<0>(r);
    }
    auto g = co_await l->read();
    co_return *g;
}

TEST_P(rwlock_rt, a_lock_in_a_branch_completes_with_the_budget_spent) {
    rill_test::watchdog dog("rwlock lock in a branch, budget spent", std::chrono::seconds(30));
    auto rt = this->builder().enable_time().build();
    EXPECT_EQ(rt.block_on(locks_in_branches(std::make_shared<rwlock<int>>(0))),
              4 * 3 * static_cast<int>(rill::detail::coop_budget));
}

RILL_BOTH_FLAVORS(rwlock_rt);

}  // namespace
