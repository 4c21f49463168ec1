// spawn_blocking and the blocking pool: results, exceptions, growth up to
// max_blocking_threads, keep-alive, runtime context on blocking threads.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

class blocking_both : public rill_test::both_flavors {};

template <class T>
rill::task<T> await_handle(rill::join_handle<T> h) {
    co_return co_await h;
}

rill::task<int> blocking_value_from_task() {
    auto h = rill::spawn_blocking([] { return 6 * 7; });
    co_return co_await h;
}

TEST_P(blocking_both, returns_the_value) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(blocking_value_from_task()), 42);
    EXPECT_EQ(rt.block_on(await_handle(rt.spawn_blocking([] { return std::string("s"); }))), "s");
    auto handle = rt.get_handle();
    EXPECT_EQ(rt.block_on(await_handle(handle.spawn_blocking([] { return 5; }))), 5);
}

rill::task<std::string> blocking_exception_from_task() {
    auto h = rill::spawn_blocking([]() -> int { throw std::out_of_range("blocking failed"); });
    try {
        co_await h;
    } catch (const std::out_of_range& e) {
        co_return e.what();
    }
    co_return "";
}

TEST_P(blocking_both, rethrows_the_exception) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(blocking_exception_from_task()), "blocking failed");
}

rill::task<void> blocking_void(std::atomic<int>* ran) {
    auto h = rill::spawn_blocking([ran] { ran->fetch_add(1); });
    co_await h;
}

TEST_P(blocking_both, void_function_and_move_only_result) {
    auto rt = this->rt();
    std::atomic<int> ran{0};
    rt.block_on(blocking_void(&ran));
    EXPECT_EQ(ran.load(), 1);
    auto p = std::make_unique<int>(3);
    auto h = rt.spawn_blocking([p = std::move(p)]() mutable { return std::move(p); });
    std::unique_ptr<int> back = rt.block_on(await_handle(std::move(h)));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, 3);
}

struct where_info {
    std::thread::id blocking_thread;
    std::thread::id task_thread;
    bool has_runtime = false;
    int spawned_from_blocking = 0;
};

rill::task<int> value(int v) { co_return v; }

rill::task<where_info> where_blocking_runs() {
    where_info w;
    w.task_thread = std::this_thread::get_id();
    auto h = rill::spawn_blocking([&w] {
        w.blocking_thread = std::this_thread::get_id();
        w.has_runtime = rill::runtime::handle::try_current().has_value();
        // The blocking thread belongs to the runtime: spawning from it works.
        return rill::spawn(value(9));
    });
    auto inner = co_await h;
    w.spawned_from_blocking = co_await inner;
    co_return w;
}

TEST_P(blocking_both, runs_on_a_pool_thread_that_knows_its_runtime) {
    auto rt = this->rt();
    where_info w = rt.block_on(where_blocking_runs());
    EXPECT_NE(w.blocking_thread, w.task_thread);
    EXPECT_NE(w.blocking_thread, std::this_thread::get_id());
    EXPECT_TRUE(w.has_runtime);
    EXPECT_EQ(w.spawned_from_blocking, 9);
}

rill::task<int> flag_then_await(std::atomic<bool>* driving, rill::join_handle<int> h) {
    driving->store(true);
    co_return co_await h;
}

TEST_P(blocking_both, block_on_from_a_blocking_thread_is_allowed) {
    // A blocking thread is not a worker: it may wait for async work (Tokio's
    // Handle::block_on inside spawn_blocking), even while the runtime is being driven
    // by another block_on (current_thread: that driver runs the task for it).
    rill_test::watchdog dog("block_on from a blocking thread");
    auto rt = this->rt();
    std::atomic<bool> driving{false};
    auto h = rt.spawn_blocking([&driving] {
        while (!driving.load()) std::this_thread::yield();
        return rill::runtime::handle::current().block_on(value(4));
    });
    EXPECT_EQ(rt.block_on(flag_then_await(&driving, std::move(h))), 4);
}

rill::task<int> three_jobs_meet(std::latch* meet) {
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < 3; ++i) {
        hs.push_back(rill::spawn_blocking([meet, i] {
            meet->arrive_and_wait();  // only returns once all three run at the same time
            return i;
        }));
    }
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
}

TEST_P(blocking_both, pool_grows_up_to_max_blocking_threads) {
    rill_test::watchdog dog("three blocking jobs waiting on each other");
    auto rt = this->builder().max_blocking_threads(3).build();
    std::latch meet(3);
    EXPECT_EQ(rt.block_on(three_jobs_meet(&meet)), 3);
    EXPECT_LE(rt.metrics().num_blocking_threads, 3u);
}

struct concurrency {
    std::atomic<int> now{0};
    std::atomic<int> max{0};
    std::atomic<int> done{0};
};

rill::task<int> many_jobs(concurrency* c, int n) {
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < n; ++i) {
        hs.push_back(rill::spawn_blocking([c] {
            const int cur = c->now.fetch_add(1) + 1;
            int seen = c->max.load();
            while (cur > seen && !c->max.compare_exchange_weak(seen, cur)) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            c->now.fetch_sub(1);
            c->done.fetch_add(1);
        }));
    }
    for (auto& h : hs) co_await h;
    co_return c->done.load();
}

TEST_P(blocking_both, never_more_than_max_blocking_threads) {
    auto rt = this->builder().max_blocking_threads(2).build();
    concurrency c;
    EXPECT_EQ(rt.block_on(many_jobs(&c, 12)), 12);
    EXPECT_LE(c.max.load(), 2);
    EXPECT_GE(c.max.load(), 1);
    EXPECT_LE(rt.metrics().num_blocking_threads, 2u);
}

TEST_P(blocking_both, one_thread_serves_a_queue_of_jobs) {
    auto rt = this->builder().max_blocking_threads(1).build();
    concurrency c;
    EXPECT_EQ(rt.block_on(many_jobs(&c, 20)), 20);
    EXPECT_EQ(c.max.load(), 1);
}

TEST_P(blocking_both, idle_threads_exit_after_keep_alive) {
    auto rt = this->builder().max_blocking_threads(3).thread_keep_alive(std::chrono::milliseconds(50)).build();
    std::latch meet(3);
    EXPECT_EQ(rt.block_on(three_jobs_meet(&meet)), 3);
    EXPECT_GE(rt.metrics().num_blocking_threads, 1u);
    EXPECT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_blocking_threads == 0; }))
        << "blocking threads: " << rt.metrics().num_blocking_threads;
    EXPECT_EQ(rt.metrics().num_idle_blocking_threads, 0u);
    // The pool starts threads again on demand.
    EXPECT_EQ(rt.block_on(blocking_value_from_task()), 42);
}

TEST_P(blocking_both, dropped_handle_detaches_the_job) {
    auto rt = this->rt();
    std::atomic<int> ran{0};
    rt.spawn_blocking([&ran] { ran.fetch_add(1); }).detach();
    { auto h = rt.spawn_blocking([&ran] { ran.fetch_add(1); }); }
    EXPECT_TRUE(rill_test::wait_until([&] { return ran.load() == 2; }));
}

TEST_P(blocking_both, detached_job_exception_is_reported) {
    std::atomic<int> reports{0};
    auto rt = this->builder().on_unhandled_exception([&reports](const rill::task_failure&) { reports.fetch_add(1); }).build();
    rt.spawn_blocking([]() -> int { throw std::runtime_error("x"); }).detach();
    EXPECT_TRUE(rill_test::wait_until([&] { return reports.load() == 1; }));
}

TEST_P(blocking_both, is_finished_tracks_the_job) {
    auto rt = this->rt();
    std::atomic<bool> release{false};
    auto h = rt.spawn_blocking([&release] {
        while (!release.load()) std::this_thread::yield();
        return 1;
    });
    EXPECT_FALSE(h.is_finished());
    release = true;
    EXPECT_TRUE(rill_test::wait_until([&] { return h.is_finished(); }));
    EXPECT_EQ(rt.block_on(await_handle(std::move(h))), 1);
}

TEST_P(blocking_both, many_jobs_from_many_tasks) {
    auto rt = this->rt();
    auto body = [](int n) -> rill::task<long> {
        std::vector<rill::join_handle<long>> hs;
        for (int i = 0; i < n; ++i) {
            hs.push_back(rill::spawn_blocking([i] { return static_cast<long>(i); }));
        }
        long sum = 0;
        for (auto& h : hs) sum += co_await h;
        co_return sum;
    };
    EXPECT_EQ(rt.block_on(body(500)), 499L * 500 / 2);
}

RILL_BOTH_FLAVORS(blocking_both);

// The address space this process has mapped, in bytes (0 when unknown).
std::size_t mapped_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    statm >> pages;
    return pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Runs in a fresh process (a threadsafe death test re-executes the binary, so glibc has
// no cached thread stack to reuse): with the address space capped just above what is
// mapped, a new thread's stack cannot be mapped and std::thread throws. Exits 0 when
// the job's handle rethrows that std::system_error (it was a bare join_error) and the
// pool recovers, non-zero otherwise.
[[noreturn]] void spawn_blocking_with_no_thread_possible() {
    auto rt = rill::builder::new_current_thread().build();
    rlimit old{};
    getrlimit(RLIMIT_AS, &old);
    const std::size_t mapped = mapped_bytes();
    if (mapped == 0) std::_Exit(10);
    rlimit low{static_cast<rlim_t>(mapped + (1u << 20)), old.rlim_max};
    if (setrlimit(RLIMIT_AS, &low) != 0) std::_Exit(11);
    std::atomic<bool> ran{false};
    auto h = rt.spawn_blocking([&ran] {
        ran.store(true);
        return 1;
    });
    // No thread, so nobody will ever run the job: it fails at once.
    const bool finished = h.is_finished();
    setrlimit(RLIMIT_AS, &old);
    if (ran.load()) std::_Exit(12);  // a thread started after all
    if (!finished) std::_Exit(13);   // queued with nobody to run it
    bool failed = false;
    try {
        rt.block_on(await_handle(std::move(h)));
    } catch (const std::system_error&) {
        failed = true;  // EAGAIN from std::thread
    } catch (...) {
    }
    if (!failed) std::_Exit(14);
    // Threads start again once they can.
    if (rt.block_on(await_handle(rt.spawn_blocking([] { return 5; }))) != 5) std::_Exit(15);
    std::fflush(stderr);
    std::_Exit(0);
}

TEST(blocking_pool, job_fails_with_the_start_error_when_no_thread_can_start_and_none_runs) {
    if (rill_test::tsan || rill_test::asan) GTEST_SKIP() << "sanitizers need address space of their own";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(spawn_blocking_with_no_thread_possible(), ::testing::ExitedWithCode(0),
                "could not start a blocking thread");
}

// The race behind a lost wake-up: a push signals the idle thread A, but thread B, which
// finishes its job at that moment, takes the new job first. A wakes to an empty queue.
// A must still be signalled for the next job: a short job submitted while A idles (and B
// runs the long one) starts at once, not after thread_keep_alive (20 s here).
TEST(blocking_pool, idle_thread_is_signalled_after_losing_a_job_to_a_busy_thread) {
    rill_test::watchdog dog("lost wake-up in the blocking pool");
    for (int round = 0; round < 50; ++round) {
        // Declared before the runtime: its jobs may still read them while it shuts down.
        std::latch meet(2);
        std::atomic<bool> long_started{false};
        std::atomic<bool> release_long{false};
        std::atomic<bool> short_started{false};
        auto rt = rill::builder::new_current_thread()
                      .max_blocking_threads(2)
                      .thread_keep_alive(std::chrono::milliseconds(20'000))
                      .build();
        // Two jobs that run together start both threads. Then A idles and B returns as
        // soon as the next job is queued, racing A (woken by that push) for it.
        rt.spawn_blocking([&meet] { meet.arrive_and_wait(); }).detach();
        rt.spawn_blocking([&meet, &rt] {
              meet.arrive_and_wait();
              while (rt.metrics().blocking_queue_depth == 0) {
              }
          }).detach();
        ASSERT_TRUE(rill_test::wait_until([&] { return rt.metrics().num_idle_blocking_threads == 1; }));
        rt.spawn_blocking([&] {
              long_started.store(true);
              while (!release_long.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
          }).detach();
        ASSERT_TRUE(rill_test::wait_until([&] { return long_started.load(); }));
        // Let whichever thread lost the race wake and go back to waiting.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        rt.spawn_blocking([&short_started] { short_started.store(true); }).detach();
        const bool started = rill_test::wait_until([&] { return short_started.load(); }, std::chrono::seconds(1));
        release_long.store(true);
        ASSERT_TRUE(started) << "round " << round << ": a job stayed queued while a blocking thread idled";
    }
}

}  // namespace
