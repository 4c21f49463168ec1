// runtime::builder: worker threads, thread names, thread hooks, validation.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
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

std::string this_thread_name() {
    char buf[64] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    return buf;
}

struct thread_seen {
    std::mutex mutex;
    std::set<std::thread::id> ids;
    std::set<std::string> names;
    std::atomic<int> arrived{0};
};

// Blocks its worker until `expected` tasks are running at once: they can only all arrive
// if they run on `expected` different threads.
rill::task<void> occupy_worker(thread_seen* seen, int expected) {
    {
        std::lock_guard lock(seen->mutex);
        seen->ids.insert(std::this_thread::get_id());
        seen->names.insert(this_thread_name());
    }
    seen->arrived.fetch_add(1);
    while (seen->arrived.load() < expected) std::this_thread::yield();
    co_return;
}

rill::task<void> join_all(std::vector<rill::join_handle<void>> hs) {
    for (auto& h : hs) co_await h;
}

TEST(builder, worker_threads_gives_that_many_distinct_workers) {
    rill_test::watchdog dog("worker_threads(4)");
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    EXPECT_EQ(rt.metrics().num_workers, 4u);
    thread_seen seen;
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn(occupy_worker(&seen, 4)));
    rt.block_on(join_all(std::move(hs)));
    EXPECT_EQ(seen.ids.size(), 4u);
    EXPECT_EQ(seen.ids.count(std::this_thread::get_id()), 0u) << "tasks ran on the caller thread";
}

TEST(builder, default_worker_count_is_the_cpu_count) {
    auto rt = rill::builder::new_multi_thread().build();
    EXPECT_GE(rt.metrics().num_workers, 1u);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        EXPECT_EQ(rt.metrics().num_workers, static_cast<std::size_t>(CPU_COUNT(&set)));
    }
}

TEST(builder, thread_name_is_visible_to_tasks_and_blocking_threads) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).thread_name("rill-test-pool").build();
    thread_seen seen;
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < 2; ++i) hs.push_back(rt.spawn(occupy_worker(&seen, 2)));
    rt.block_on(join_all(std::move(hs)));
    EXPECT_EQ(seen.names, std::set<std::string>{"rill-test-pool"});
    auto b = rt.spawn_blocking([] { return this_thread_name(); });
    EXPECT_EQ(rt.block_on([](rill::join_handle<std::string> h) -> rill::task<std::string> {
        co_return co_await h;
    }(std::move(b))),
              "rill-test-pool");
}

TEST(builder, default_thread_name) {
    auto rt = rill::builder::new_multi_thread().worker_threads(1).build();
    thread_seen seen;
    std::vector<rill::join_handle<void>> hs;
    hs.push_back(rt.spawn(occupy_worker(&seen, 1)));
    rt.block_on(join_all(std::move(hs)));
    EXPECT_EQ(seen.names, std::set<std::string>{"rill-worker"});
}

TEST(builder, thread_name_fn_names_each_thread) {
    std::atomic<int> next{0};
    auto rt = rill::builder::new_multi_thread()
                  .worker_threads(3)
                  .thread_name_fn([&next] { return "w-" + std::to_string(next.fetch_add(1)); })
                  .build();
    thread_seen seen;
    std::vector<rill::join_handle<void>> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(rt.spawn(occupy_worker(&seen, 3)));
    rt.block_on(join_all(std::move(hs)));
    EXPECT_EQ(seen.names, (std::set<std::string>{"w-0", "w-1", "w-2"}));
}

struct hook_log {
    std::mutex mutex;
    std::vector<std::thread::id> started;
    std::vector<std::thread::id> stopped;
};

TEST(builder, thread_hooks_run_once_per_thread_on_that_thread) {
    hook_log log;
    thread_seen seen;
    {
        auto rt = rill::builder::new_multi_thread()
                      .worker_threads(4)
                      .on_thread_start([&log] {
                          std::lock_guard lock(log.mutex);
                          log.started.push_back(std::this_thread::get_id());
                      })
                      .on_thread_stop([&log] {
                          std::lock_guard lock(log.mutex);
                          log.stopped.push_back(std::this_thread::get_id());
                      })
                      .build();
        std::vector<rill::join_handle<void>> hs;
        for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn(occupy_worker(&seen, 4)));
        rt.block_on(join_all(std::move(hs)));
        // One blocking thread joins the set.
        auto b = rt.spawn_blocking([] { return std::this_thread::get_id(); });
        std::thread::id blocking_id = rt.block_on([](rill::join_handle<std::thread::id> h) -> rill::task<std::thread::id> {
            co_return co_await h;
        }(std::move(b)));
        seen.ids.insert(blocking_id);
    }
    // After the runtime is gone every thread has stopped, and each hook ran exactly once.
    std::set<std::thread::id> started(log.started.begin(), log.started.end());
    std::set<std::thread::id> stopped(log.stopped.begin(), log.stopped.end());
    EXPECT_EQ(log.started.size(), 5u);
    EXPECT_EQ(log.stopped.size(), 5u);
    EXPECT_EQ(started.size(), 5u);
    EXPECT_EQ(started, stopped);
    EXPECT_EQ(started, seen.ids) << "hooks run on the runtime's own threads";
}

TEST(builder, current_thread_runs_tasks_on_the_block_on_thread) {
    auto rt = rill::builder::new_current_thread().build();
    EXPECT_EQ(rt.metrics().num_workers, 1u);
    auto where = []() -> rill::task<std::thread::id> {
        auto h = rill::spawn([]() -> rill::task<std::thread::id> { co_return std::this_thread::get_id(); }());
        co_return co_await h;
    };
    EXPECT_EQ(rt.block_on(where()), std::this_thread::get_id());
    // A second block_on from another thread drives it there.
    std::thread::id other;
    std::thread t([&] { other = rt.block_on(where()); });
    const std::thread::id tid = t.get_id();
    t.join();
    EXPECT_EQ(other, tid);
}

rill::task<int> wait_for(rill::sync::notify* n, int v) {
    co_await n->notified();
    co_return v;
}

rill::task<int> notify_and_return(rill::sync::notify* n, int v) {
    n->notify_one();
    co_return v;
}

TEST(builder, current_thread_block_on_from_two_threads_at_once) {
    // One thread drives; the other's task runs on the driver, and either may finish first.
    rill_test::watchdog dog("concurrent block_on on current_thread");
    auto rt = rill::builder::new_current_thread().build();
    for (int round = 0; round < 50; ++round) {
        rill::sync::notify n;
        int a = 0, b = 0;
        std::thread ta([&] { a = rt.block_on(wait_for(&n, 1)); });
        std::thread tb([&] { b = rt.block_on(notify_and_return(&n, 2)); });
        ta.join();
        tb.join();
        EXPECT_EQ(a, 1);
        EXPECT_EQ(b, 2);
    }
}

TEST(builder, rejects_invalid_settings) {
    EXPECT_THROW(rill::builder::new_multi_thread().worker_threads(0), std::invalid_argument);
    EXPECT_THROW(rill::builder::new_multi_thread().max_blocking_threads(0), std::invalid_argument);
}

TEST(builder, config_reflects_settings) {
    auto b = rill::builder::new_multi_thread();
    b.worker_threads(3).max_blocking_threads(7).thread_keep_alive(std::chrono::milliseconds(123)).thread_name("x");
    EXPECT_EQ(b.config().flavor, rill::flavor::multi_thread);
    EXPECT_EQ(b.config().worker_threads, 3u);
    EXPECT_EQ(b.config().max_blocking_threads, 7u);
    EXPECT_EQ(b.config().thread_keep_alive, std::chrono::milliseconds(123));
    EXPECT_EQ(b.config().thread_name, "x");
    auto rt = b.build();
    EXPECT_EQ(rt.config().worker_threads, 3u);
    EXPECT_EQ(rt.metrics().num_workers, 3u);
    EXPECT_EQ(rill::builder::new_current_thread().config().flavor, rill::flavor::current_thread);
    EXPECT_EQ(rill::builder::new_multi_thread().config().max_blocking_threads, 512u);
    EXPECT_EQ(rill::builder::new_multi_thread().config().thread_keep_alive, std::chrono::seconds(10));
}

TEST(builder, many_runtimes_can_live_at_once) {
    std::vector<rill::runtime> rts;
    for (int i = 0; i < 4; ++i) rts.push_back(rill::builder::new_multi_thread().worker_threads(2).build());
    for (int i = 0; i < 4; ++i) rts.push_back(rill::builder::new_current_thread().build());
    int sum = 0;
    for (auto& rt : rts) sum += rt.block_on([]() -> rill::task<int> { co_return 1; }());
    EXPECT_EQ(sum, 8);
}

rill::task<int> hold(std::shared_ptr<int> p) {
    co_await rill::yield_now();
    co_return *p;
}

TEST(builder, block_on_destroys_the_task_and_its_parameters_before_it_returns) {
    for (const rill::flavor f : {rill::flavor::multi_thread, rill::flavor::current_thread}) {
        auto rt = rill_test::make_rt(f, 2);
        auto p = std::make_shared<int>(7);
        for (int i = 0; i < 2000; ++i) {
            EXPECT_EQ(rt.block_on(hold(p)), 7);
            // The task's copy of p is gone: nothing of the task runs after block_on.
            ASSERT_EQ(p.use_count(), 1) << rill_test::flavor_name(f) << " round " << i;
        }
    }
}

TEST(builder, a_runtime_used_after_shutdown_or_a_move_throws_logic_error) {
    auto p = std::make_shared<int>(1);
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 2);
    rt.shutdown_background();
    EXPECT_THROW((void)rt.metrics(), std::logic_error);
    EXPECT_THROW((void)rt.config(), std::logic_error);
    EXPECT_THROW((void)rt.get_handle(), std::logic_error);
    EXPECT_THROW((void)rt.block_on(hold(p)), std::logic_error);
    EXPECT_THROW((void)rt.spawn(hold(p)), std::logic_error);
    EXPECT_EQ(p.use_count(), 1);  // the refused tasks were destroyed
    auto a = rill_test::make_rt(rill::flavor::current_thread, 1);
    auto b = std::move(a);
    EXPECT_THROW((void)a.metrics(), std::logic_error);
    EXPECT_EQ(b.metrics().num_alive_tasks, 0u);
    EXPECT_EQ(b.block_on(hold(p)), 1);
}

// Runs in a fresh process (threadsafe death test): with the address space capped a few
// thread stacks above what is mapped, some workers start and a later one cannot. build()
// must throw (it terminated: std::thread's destructor ran on the started threads).
// Exits 0 when it threw and a runtime builds again once the cap is lifted.
[[noreturn]] void build_with_too_few_threads_possible() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    statm >> pages;
    if (pages == 0) std::_Exit(10);
    const std::size_t mapped = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    rlimit old{};
    getrlimit(RLIMIT_AS, &old);
    rlimit low{static_cast<rlim_t>(mapped + (20u << 20)), old.rlim_max};  // ~2 stacks of 8 MiB
    if (setrlimit(RLIMIT_AS, &low) != 0) std::_Exit(11);
    bool threw = false;
    try {
        auto rt = rill::builder::new_multi_thread().worker_threads(16).build();
    } catch (const std::exception& e) {
        threw = true;
        std::fprintf(stderr, "build failed: %s\n", e.what());
    }
    setrlimit(RLIMIT_AS, &old);
    if (!threw) std::_Exit(12);
    auto rt = rill::builder::new_multi_thread().worker_threads(2).build();
    if (rt.block_on([]() -> rill::task<int> { co_return 3; }()) != 3) std::_Exit(13);
    std::fflush(stderr);
    std::_Exit(0);
}

TEST(builder, a_worker_that_cannot_start_makes_build_throw) {
    if (rill_test::tsan || rill_test::asan) GTEST_SKIP() << "sanitizers need address space of their own";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(build_with_too_few_threads_possible(), ::testing::ExitedWithCode(0), "build failed");
}

}  // namespace
