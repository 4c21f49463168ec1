// Runtime shutdown: every unfinished task is destroyed (running destructors), blocking
// work is waited for (or not, with shutdown_timeout/background), and the handle of a
// dead runtime gives cancelled tasks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::drop_counter;

class shutdown_both : public rill_test::both_flavors {};

rill::task<int> value(int v) { co_return v; }

rill::task<void> tick() { co_await rill::yield_now(); }

/// Records the thread its destructor runs on.
struct thread_recorder {
    std::mutex* mutex;
    std::vector<std::thread::id>* ids;
    thread_recorder(std::mutex* m, std::vector<std::thread::id>* v) : mutex(m), ids(v) {}
    thread_recorder(thread_recorder&& o) noexcept : mutex(o.mutex), ids(std::exchange(o.ids, nullptr)) {}
    ~thread_recorder() {
        if (ids == nullptr) return;
        std::lock_guard lock(*mutex);
        ids->push_back(std::this_thread::get_id());
    }
};

struct blocked_counters {
    std::atomic<int> args{0};
    std::atomic<int> locals{0};
    std::atomic<int> started{0};
    std::mutex mutex;
    std::vector<std::thread::id> destroyed_on;
};

rill::task<void> blocked_forever(drop_counter, rill::sync::notify* never, blocked_counters* c) {
    drop_counter local(&c->locals);
    thread_recorder rec(&c->mutex, &c->destroyed_on);
    c->started.fetch_add(1);
    co_await never->notified();
    ADD_FAILURE() << "a task blocked forever resumed";
}

rill::task<void> spawn_blocked(int n, rill::sync::notify* never, blocked_counters* c) {
    for (int i = 0; i < n; ++i) rill::spawn(blocked_forever(drop_counter(&c->args), never, c)).detach();
    while (c->started.load() < n) co_await rill::yield_now();
}

TEST_P(shutdown_both, dropping_the_runtime_destroys_every_unfinished_task) {
    constexpr int n = 50;
    rill::sync::notify never;  // outlives the runtime: its waiters must all be gone
    blocked_counters c;
    {
        auto rt = this->rt();
        rt.block_on(spawn_blocked(n, &never, &c));
        EXPECT_EQ(c.started.load(), n);
        EXPECT_EQ(c.args.load(), 0);
        // The block_on root may still be finishing on a worker: wait for it to leave.
        EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_alive_tasks == static_cast<std::size_t>(n); }))
            << rt.metrics().num_alive_tasks;
    }
    EXPECT_EQ(c.args.load(), n);
    EXPECT_EQ(c.locals.load(), n);
    // Destructors ran on the thread that dropped the runtime.
    std::set<std::thread::id> where(c.destroyed_on.begin(), c.destroyed_on.end());
    EXPECT_EQ(where, std::set<std::thread::id>{std::this_thread::get_id()});
    // No registration is left behind in the notify: a notification becomes a permit.
    never.notify_one();
    auto m = rill::test::make_mock(never.notified());
    EXPECT_TRUE(m.poll().is_ready());
}

TEST(shutdown, current_thread_destroys_tasks_that_never_ran) {
    rill::sync::notify never;
    blocked_counters c;
    std::vector<rill::join_handle<void>> hs;
    {
        auto rt = rill::builder::new_current_thread().build();
        for (int i = 0; i < 20; ++i) hs.push_back(rt.spawn(blocked_forever(drop_counter(&c.args), &never, &c)));
        // Nobody drives the runtime: the tasks are queued and never run.
        for (auto& h : hs) EXPECT_FALSE(h.is_finished());
    }
    EXPECT_EQ(c.started.load(), 0);
    EXPECT_EQ(c.args.load(), 20);
    EXPECT_EQ(c.locals.load(), 0);
    // Their handles report cancellation.
    for (auto& h : hs) {
        EXPECT_TRUE(h.is_finished());
        auto m = rill::test::make_mock(std::move(h));
        try {
            m.poll();
            ADD_FAILURE() << "join of a task destroyed by shutdown did not throw";
        } catch (const rill::join_error& e) {
            EXPECT_TRUE(e.is_cancelled());
        }
    }
}

rill::task<void> hog(std::atomic<bool>* hogging, std::atomic<bool>* release) {
    hogging->store(true);
    while (!release->load()) std::this_thread::yield();  // keeps the only worker busy
    co_return;
}

TEST(shutdown, multi_thread_destroys_queued_tasks) {
    rill::sync::notify never;
    blocked_counters c;
    std::atomic<bool> hogging{false}, release{false};
    {
        auto rt = rill::builder::new_multi_thread().worker_threads(1).build();
        rt.spawn(hog(&hogging, &release)).detach();
        ASSERT_TRUE(rill_test::wait_until([&] { return hogging.load(); }));
        for (int i = 0; i < 20; ++i) rt.spawn(blocked_forever(drop_counter(&c.args), &never, &c)).detach();
        release = true;  // the worker may run some of them before it sees the shutdown
    }
    EXPECT_EQ(c.args.load(), 20);
    EXPECT_EQ(c.locals.load(), c.started.load());
}

rill::task<int> join_blocked(rill::join_handle<void> h, drop_counter) {
    co_await h;
    co_return 1;
}

struct notify_on_drop {
    rill::sync::notify* n;
    explicit notify_on_drop(rill::sync::notify* x) : n(x) {}
    notify_on_drop(notify_on_drop&& o) noexcept : n(std::exchange(o.n, nullptr)) {}
    ~notify_on_drop() {
        if (n) n->notify_one();
    }
};

rill::task<void> wait_and_poke_on_drop(rill::sync::notify* wait_on, notify_on_drop /*pokes when destroyed*/,
                                       drop_counter) {
    co_await wait_on->notified();
}

rill::task<void> recv_forever(rill::sync::oneshot::receiver<int> rx, drop_counter) { (void)co_await std::move(rx); }

rill::task<void> keep_sender(rill::sync::oneshot::sender<int> tx, rill::sync::notify* never, drop_counter) {
    co_await tx.closed();
    co_await never->notified();
}

rill::task<void> spawn_entangled(rill::sync::notify* a, rill::sync::notify* b, std::atomic<int>* dropped) {
    // A task joining another blocked task.
    auto blocked = rill::spawn(wait_and_poke_on_drop(a, notify_on_drop(b), drop_counter(dropped)));
    rill::spawn(join_blocked(std::move(blocked), drop_counter(dropped))).detach();
    // A task whose destructor wakes another one during shutdown.
    rill::spawn(wait_and_poke_on_drop(b, notify_on_drop(a), drop_counter(dropped))).detach();
    // A oneshot pair split over two tasks.
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    rill::spawn(recv_forever(std::move(rx), drop_counter(dropped))).detach();
    rill::spawn(keep_sender(std::move(tx), a, drop_counter(dropped))).detach();
    for (int i = 0; i < 10; ++i) co_await rill::yield_now();
}

TEST_P(shutdown_both, tasks_that_reference_each_other_are_all_destroyed) {
    rill::sync::notify a, b;
    std::atomic<int> dropped{0};
    {
        auto rt = this->rt();
        rt.block_on(spawn_entangled(&a, &b, &dropped));
    }
    EXPECT_EQ(dropped.load(), 5);
}

rill::task<void> spawn_in_destructor_child(drop_counter) { co_return; }

struct spawn_on_drop {
    std::atomic<int>* counter;
    explicit spawn_on_drop(std::atomic<int>* c) : counter(c) {}
    spawn_on_drop(spawn_on_drop&& o) noexcept : counter(std::exchange(o.counter, nullptr)) {}
    ~spawn_on_drop() {
        if (counter == nullptr) return;
        try {
            rill::spawn(spawn_in_destructor_child(drop_counter(counter))).detach();
        } catch (const std::exception&) {
            counter->fetch_add(100);  // spawning during shutdown must not throw
        }
    }
};

rill::task<void> spawns_when_destroyed(spawn_on_drop, rill::sync::notify* never) { co_await never->notified(); }

rill::task<void> spawn_spawner(rill::sync::notify* never, std::atomic<int>* counter) {
    rill::spawn(spawns_when_destroyed(spawn_on_drop(counter), never)).detach();
    for (int i = 0; i < 5; ++i) co_await rill::yield_now();
}

TEST_P(shutdown_both, spawning_from_a_destructor_during_shutdown_is_cancelled_at_once) {
    rill::sync::notify never;
    std::atomic<int> counter{0};
    {
        auto rt = this->rt();
        rt.block_on(spawn_spawner(&never, &counter));
    }
    EXPECT_EQ(counter.load(), 1);  // the child's argument was destroyed, nothing threw
}

TEST_P(shutdown_both, join_handles_outlive_the_runtime) {
    rill::sync::notify never;
    blocked_counters c;
    rill::join_handle<void> blocked;
    rill::join_handle<int> done;
    {
        auto rt = this->rt();
        blocked = rt.spawn(blocked_forever(drop_counter(&c.args), &never, &c));
        done = rt.spawn(value(3));
        rt.block_on(tick());
        while (!done.is_finished()) rt.block_on(tick());
    }
    EXPECT_TRUE(blocked.is_finished());
    auto mb = rill::test::make_mock(std::move(blocked));
    EXPECT_THROW(mb.poll(), rill::join_error);
    // A task that finished before shutdown keeps its value.
    auto md = rill::test::make_mock(std::move(done));
    auto r = md.poll();
    ASSERT_TRUE(r.is_ready());
    EXPECT_EQ(*r, 3);
}

rill::task<void> fail_now(drop_counter) {
    throw std::runtime_error("failed before shutdown");
    co_return;
}

TEST_P(shutdown_both, handle_of_a_failed_task_dropped_after_the_runtime) {
    // The task failed while the runtime lived; its handle is dropped after the runtime is
    // gone. The unobserved exception may still be reported, but nothing may touch the
    // destroyed runtime.
    std::atomic<int> reports{0}, dropped{0};
    rill::join_handle<void> h;
    {
        auto rt = this->builder().on_unhandled_exception([&reports](const rill::task_failure&) { reports++; }).build();
        h = rt.spawn(fail_now(drop_counter(&dropped)));
        while (!h.is_finished()) rt.block_on(tick());
    }
    EXPECT_EQ(reports.load(), 0);
    h = rill::join_handle<void>();
    EXPECT_LE(reports.load(), 1);
    EXPECT_EQ(dropped.load(), 1);
}

TEST_P(shutdown_both, handles_and_wakers_keep_working_after_the_runtime) {
    // Everything a user can still hold after the runtime is gone: join handles (finished,
    // failed, cancelled), a notify with a cancelled waiter, a oneshot whose receiver task
    // was cancelled. Using and dropping them must be safe.
    rill::sync::notify n;
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    std::atomic<int> dropped{0};
    rill::join_handle<int> ok;
    rill::join_handle<void> failed, waiting;
    rill::join_handle<int> receiving;
    {
        auto rt = this->builder().on_unhandled_exception([](const rill::task_failure&) {}).build();
        ok = rt.spawn(value(1));
        failed = rt.spawn(fail_now(drop_counter(&dropped)));
        waiting = rt.spawn([](rill::sync::notify* x) -> rill::task<void> { co_await x->notified(); }(&n));
        receiving = rt.spawn([](rill::sync::oneshot::receiver<int> r) -> rill::task<int> {
            co_return co_await std::move(r);
        }(std::move(rx)));
        for (int i = 0; i < 10; ++i) rt.block_on(tick());
    }
    n.notify_one();
    n.notify_waiters();
    EXPECT_FALSE(tx.send(3).has_value()) << "the receiver was destroyed with its task";
    waiting.abort();
    ok.abort();
    EXPECT_TRUE(waiting.is_finished());
    ok = {};
    failed = {};
    waiting = {};
    receiving = {};
    EXPECT_EQ(dropped.load(), 1);
}

// --- blocking work at shutdown -----------------------------------------------------------------

/// A token whose expiry says the runtime's state (and so every pool thread) is gone.
struct lifetime_probe {
    std::shared_ptr<int> token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    /// A hook that keeps the token alive as long as the runtime's config lives.
    std::function<void()> hook() {
        return [t = std::exchange(token, nullptr)] { (void)t; };
    }
    bool gone() const { return watch.expired(); }
};

TEST_P(shutdown_both, shutdown_timeout_does_not_wait_for_long_blocking_work) {
    std::atomic<bool> release{false}, finished{false}, started{false};
    lifetime_probe probe;
    {
        auto rt = this->builder().on_thread_stop(probe.hook()).build();
        rt.spawn_blocking([&] {
            started = true;
            // "Sleeps" up to 2 s, or until the test lets it go.
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (!release.load() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            finished = true;
        }).detach();
        ASSERT_TRUE(rill_test::wait_until([&] { return started.load(); }));
        EXPECT_FALSE(rt.shutdown_timeout(std::chrono::milliseconds(50)));
        EXPECT_FALSE(finished.load()) << "shutdown_timeout waited for the blocking job";
    }
    release = true;
    EXPECT_TRUE(rill_test::wait_until([&] { return probe.gone(); })) << "the blocking thread never exited";
    EXPECT_TRUE(finished.load());
}

TEST_P(shutdown_both, shutdown_timeout_is_true_without_blocking_work) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(value(1)), 1);
    EXPECT_TRUE(rt.shutdown_timeout(std::chrono::seconds(5)));
}

TEST_P(shutdown_both, shutdown_background_returns_at_once) {
    std::atomic<bool> release{false};
    lifetime_probe probe;
    {
        auto rt = this->builder().on_thread_stop(probe.hook()).build();
        std::atomic<bool> started{false};
        rt.spawn_blocking([&] {
            started = true;
            while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }).detach();
        ASSERT_TRUE(rill_test::wait_until([&] { return started.load(); }));
        rt.shutdown_background();  // would hang here if it waited
    }
    release = true;
    EXPECT_TRUE(rill_test::wait_until([&] { return probe.gone(); }));
}

TEST_P(shutdown_both, queued_blocking_jobs_are_cancelled) {
    std::atomic<bool> release{false}, started{false};
    std::atomic<int> second_ran{0}, second_dropped{0};
    lifetime_probe probe;
    rill::join_handle<void> second;
    {
        auto rt = this->builder().max_blocking_threads(1).on_thread_stop(probe.hook()).build();
        rt.spawn_blocking([&] {
            started = true;
            while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }).detach();
        ASSERT_TRUE(rill_test::wait_until([&] { return started.load(); }));
        // The only blocking thread is busy: this one waits in the queue.
        second = rt.spawn_blocking([&second_ran, d = drop_counter(&second_dropped)] { second_ran.fetch_add(1); });
        EXPECT_FALSE(rt.shutdown_timeout(std::chrono::milliseconds(10)));
    }
    release = true;
    EXPECT_EQ(second_ran.load(), 0);
    EXPECT_EQ(second_dropped.load(), 1) << "the queued job's function was destroyed at shutdown";
    EXPECT_TRUE(second.is_finished());
    auto m = rill::test::make_mock(std::move(second));
    EXPECT_THROW(m.poll(), rill::join_error);
    // The running job's thread finishes and the runtime's last traces go away.
    ASSERT_TRUE(rill_test::wait_until([&] { return probe.gone(); }));
    EXPECT_EQ(second_ran.load(), 0);
}

// --- a handle whose runtime is gone ---------------------------------------------------------

TEST_P(shutdown_both, spawn_after_shutdown_gives_a_cancelled_task) {
    rill::runtime::handle handle;
    std::atomic<int> dropped{0};
    {
        auto rt = this->rt();
        handle = rt.get_handle();
    }
    auto h = handle.spawn(spawn_in_destructor_child(drop_counter(&dropped)));
    EXPECT_TRUE(h.is_finished());
    EXPECT_EQ(dropped.load(), 1) << "the task's arguments are destroyed at once";
    auto m = rill::test::make_mock(std::move(h));
    try {
        m.poll();
        ADD_FAILURE() << "no join_error";
    } catch (const rill::join_error& e) {
        EXPECT_TRUE(e.is_cancelled());
    }
    std::atomic<int> ran{0}, fn_dropped{0};
    auto b = handle.spawn_blocking([&ran, d = drop_counter(&fn_dropped)] { ran.fetch_add(1); });
    EXPECT_TRUE(b.is_finished());
    EXPECT_EQ(fn_dropped.load(), 1);
    auto mb = rill::test::make_mock(std::move(b));
    EXPECT_THROW(mb.poll(), rill::join_error);
    EXPECT_EQ(ran.load(), 0);
}

TEST_P(shutdown_both, block_on_through_a_dead_runtime_fails_instead_of_hanging) {
    rill_test::watchdog dog("block_on after shutdown");
    rill::runtime::handle handle;
    {
        auto rt = this->rt();
        handle = rt.get_handle();
    }
    EXPECT_THROW(handle.block_on(value(1)), rill::error);
}

TEST_P(shutdown_both, move_assignment_shuts_the_old_runtime_down) {
    rill::sync::notify never;
    blocked_counters c;
    auto rt = this->rt();
    rt.block_on(spawn_blocked(3, &never, &c));
    rt = this->rt();
    EXPECT_EQ(c.args.load(), 3);
    EXPECT_EQ(rt.block_on(value(2)), 2);
}

rill::task<void> ping(rill::sync::notify* me, rill::sync::notify* other, std::atomic<long>* hits, drop_counter) {
    for (;;) {
        co_await me->notified();
        hits->fetch_add(1);
        other->notify_one();
    }
}

TEST_P(shutdown_both, build_and_drop_with_busy_tasks) {
    const int rounds = static_cast<int>(rill_test::scaled(80));
    std::atomic<int> dropped{0};
    int spawned = 0;
    for (int r = 0; r < rounds; ++r) {
        rill::sync::notify a, b;
        std::atomic<long> hits{0};
        {
            auto rt = this->rt(2);
            rt.spawn(ping(&a, &b, &hits, drop_counter(&dropped))).detach();
            rt.spawn(ping(&b, &a, &hits, drop_counter(&dropped))).detach();
            spawned += 2;
            a.notify_one();
            // Let the ping-pong run a little (current_thread needs to be driven).
            rt.block_on(tick());
        }
        EXPECT_EQ(dropped.load(), spawned);
    }
}

// --- a runtime dropped while another thread drives it or its tasks are woken ---------------

rill::task<void> wait_forever(rill::sync::oneshot::receiver<int> rx, std::atomic<bool>* started) {
    started->store(true);
    (void)co_await std::move(rx);
    ADD_FAILURE() << "the oneshot was never sent";
}

class shutdown_current_thread : public ::testing::TestWithParam<bool> {};

TEST_P(shutdown_current_thread, dropping_the_runtime_wakes_a_thread_parked_in_block_on) {
    // The thread in block_on drives the runtime and sleeps in it (its futex, or
    // epoll_wait with I/O enabled) waiting for a oneshot nobody sends. Dropping the
    // runtime elsewhere must wake it, destroy its task on the dropping thread and make
    // its block_on throw (it used to sleep forever).
    rill_test::watchdog dog("current_thread runtime dropped under block_on", std::chrono::seconds(30));
    auto b = rill::builder::new_current_thread();
    if (GetParam()) b.enable_all();
    std::optional<rill::runtime> rt(b.build());
    rill::runtime::handle h = rt->get_handle();
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    std::atomic<bool> started{false}, threw{false};
    std::thread x([&h, &started, &threw, rx = std::move(rx)]() mutable {
        try {
            h.block_on(wait_forever(std::move(rx), &started));
        } catch (const rill::error&) {
            threw = true;
        }
    });
    ASSERT_TRUE(rill_test::wait_until([&] { return started.load(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it go to sleep
    rt.reset();
    x.join();
    EXPECT_TRUE(threw) << "block_on did not report the shutdown";
    EXPECT_FALSE(tx.send(1).has_value()) << "the task (and its receiver) was not destroyed";
}

INSTANTIATE_TEST_SUITE_P(, shutdown_current_thread, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? std::string("io_and_time") : std::string("no_drivers");
                         });

/// Where and how a task's frame was destroyed.
struct destruction_site {
    std::atomic<bool> done{false};
    std::thread::id thread;
    bool had_runtime = false;
};

/// Records the destroying thread, and whether it was inside the runtime's context.
struct site_recorder {
    destruction_site* site;
    explicit site_recorder(destruction_site* s) noexcept : site(s) {}
    site_recorder(site_recorder&& o) noexcept : site(std::exchange(o.site, nullptr)) {}
    ~site_recorder() {
        if (site == nullptr) return;
        site->thread = std::this_thread::get_id();
        site->had_runtime = rill::runtime::handle::try_current().has_value();
        site->done.store(true);
    }
};

/// When destroyed, wakes the receiver of `tx` from a plain thread and waits for it.
struct send_from_a_thread_on_drop {
    std::optional<rill::sync::oneshot::sender<int>> tx;
    explicit send_from_a_thread_on_drop(rill::sync::oneshot::sender<int> t) : tx(std::move(t)) {}
    send_from_a_thread_on_drop(send_from_a_thread_on_drop&& o) noexcept : tx(std::move(o.tx)) { o.tx.reset(); }
    ~send_from_a_thread_on_drop() {
        if (!tx) return;
        std::thread t([this] { (void)tx->send(1); });
        t.join();
    }
};

rill::task<void> woken_task(site_recorder, rill::sync::oneshot::receiver<int> rx, std::atomic<int>* waiting) {
    waiting->fetch_add(1);
    (void)co_await std::move(rx);
}

rill::task<void> waking_task(send_from_a_thread_on_drop, rill::sync::notify* never, std::atomic<int>* waiting) {
    waiting->fetch_add(1);
    co_await never->notified();
}

rill::task<void> spawn_woken_then_waking(destruction_site* site, rill::sync::notify* never, std::atomic<int>* waiting,
                                         bool woken_first) {
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    auto woken = woken_task(site_recorder(site), std::move(rx), waiting);
    auto waking = waking_task(send_from_a_thread_on_drop(std::move(tx)), never, waiting);
    // The order in which they first wait is the order in which they enter the owned list.
    if (woken_first) {
        rill::spawn(std::move(woken)).detach();
        while (waiting->load() < 1) co_await rill::yield_now();
        rill::spawn(std::move(waking)).detach();
    } else {
        rill::spawn(std::move(waking)).detach();
        while (waiting->load() < 1) co_await rill::yield_now();
        rill::spawn(std::move(woken)).detach();
    }
    while (waiting->load() < 2) co_await rill::yield_now();
}

TEST_P(shutdown_both, a_wake_from_a_plain_thread_during_shutdown_leaves_the_task_to_the_dropping_thread) {
    // During shutdown, task A's destructor (on the dropping thread) wakes task B from a
    // plain thread. B must still be destroyed on the dropping thread, inside the
    // runtime's context; it used to be destroyed by the waking thread, with no context,
    // and ~runtime could return before that destructor had finished. The order of the two
    // in the owned list varies with the rounds.
    rill_test::watchdog dog("wake from a plain thread during shutdown");
    const int rounds = static_cast<int>(rill_test::scaled(40));
    for (int r = 0; r < rounds; ++r) {
        rill::sync::notify never;
        destruction_site site;
        std::atomic<int> waiting{0};
        {
            auto rt = this->rt(2);
            rt.block_on(spawn_woken_then_waking(&site, &never, &waiting, r % 2 == 0));
        }
        ASSERT_TRUE(site.done.load()) << "round " << r;
        EXPECT_EQ(site.thread, std::this_thread::get_id()) << "round " << r;
        EXPECT_TRUE(site.had_runtime) << "round " << r;
    }
}

// --- a runtime dropped from one of its own threads ---------------------------------------

rill::task<int> drop_own_runtime(std::optional<rill::runtime>* rt) {
    rt->reset();  // drops the runtime that runs this very task
    co_return 7;
}

// The driver thread used the scheduler's mutex after the drop had freed it (valgrind:
// invalid read in pthread_mutex_unlock; ASan and TSan do not see it): block_on now holds
// a reference of its own.
TEST(shutdown_current_thread_self, a_task_drops_its_own_runtime) {
    std::optional<rill::runtime> rt(rill::builder::new_current_thread().enable_all().build());
    rill::runtime* raw = &*rt;
    EXPECT_EQ(raw->block_on(drop_own_runtime(&rt)), 7);
    EXPECT_FALSE(rt.has_value());
}

// A worker joined itself (std::terminate, "Resource deadlock avoided"): the shutdown now
// runs on a helper thread and the task that dropped the runtime finishes its poll.
TEST(shutdown_multi_thread_self, a_task_drops_its_own_runtime) {
    rill_test::watchdog dog("multi_thread runtime dropped by its own task");
    std::optional<rill::runtime> rt(rill::builder::new_multi_thread().worker_threads(2).enable_all().build());
    std::promise<int> out;
    auto body = [](std::optional<rill::runtime>* r, std::promise<int>* p, drop_counter c) -> rill::task<void> {
        (void)c;
        r->reset();
        p->set_value(7);
        co_return;
    };
    std::atomic<int> dropped{0};
    auto h = rt->get_handle();
    h.spawn(body(&rt, &out, drop_counter(&dropped))).detach();
    EXPECT_EQ(out.get_future().get(), 7);
    EXPECT_TRUE(rill_test::wait_until([&] { return dropped.load() == 1; }));
}

// A blocking job that dropped its runtime waited for itself forever (the pool waited for
// every blocking thread to exit, its own included).
TEST_P(shutdown_both, a_blocking_job_drops_its_own_runtime) {
    rill_test::watchdog dog("runtime dropped by its own blocking job");
    auto rt = std::make_shared<std::optional<rill::runtime>>(builder().enable_all().build());
    std::promise<void> dropped;
    auto f = dropped.get_future();
    (void)(*rt)->spawn_blocking([rt, &dropped] {
        rt->reset();
        dropped.set_value();
    });
    rt.reset();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
}

RILL_BOTH_FLAVORS(shutdown_both);

}  // namespace
