// Wakes racing the task they wake: a wake that arrives while the task runs makes it run
// again exactly once; no wake is ever lost; wakes after the await ended, or racing its
// cancellation, are harmless.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

using rill_test::scaled;

class wake_stress : public rill_test::seeded {};

/// A thread that wakes wakers handed to it. `fired` counts the wakes done.
class wake_thread {
public:
    wake_thread() : thread_([this] { loop(); }) {}
    ~wake_thread() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void post(rill::waker w, std::uint64_t spin_before = 0) {
        {
            std::lock_guard lock(mutex_);
            queue_.emplace_back(std::move(w), spin_before);
        }
        cv_.notify_one();
    }
    std::atomic<std::uint64_t> fired{0};

private:
    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;
            auto [w, spin] = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            rill_test::spin(spin);
            std::move(w).wake();
            fired.fetch_add(1, std::memory_order_release);
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<rill::waker, std::uint64_t>> queue_;
    bool stop_ = false;
    std::thread thread_;
};

/// Pending `rounds` times. In each poll the waker goes to the wake thread, and poll does
/// not return before that thread has woken it: the wake always lands while the task runs.
struct woken_during_poll {
    wake_thread* helper;
    std::uint64_t rounds;
    std::uint64_t polls = 0;
    std::optional<std::uint64_t> poll(rill::context& cx) {
        ++polls;
        if (polls > rounds) return polls;
        const std::uint64_t before = helper->fired.load(std::memory_order_acquire);
        helper->post(cx.waker());
        while (helper->fired.load(std::memory_order_acquire) == before) std::this_thread::yield();
        return std::nullopt;
    }
};

rill::task<std::uint64_t> run_woken_during_poll(wake_thread* helper, std::uint64_t rounds) {
    woken_during_poll p{helper, rounds};
    co_return co_await rill::poll_fn(p);
}

TEST_F(wake_stress, wake_while_running_reruns_the_task_exactly_once) {
    for (auto fl : {rill::flavor::multi_thread, rill::flavor::current_thread}) {
        auto rt = rill_test::make_rt(fl, 2);
        wake_thread helper;
        // The full 100k under TSan too (about a second per flavor); fewer at -O0 with ASan.
        const std::uint64_t rounds = rill_test::tsan ? 100'000 : scaled(100'000);
        // One poll per wake plus the first: a lost wake hangs (the watchdog reports it), an
        // extra run shows up as an extra poll.
        EXPECT_EQ(rt.block_on(run_woken_during_poll(&helper, rounds)), rounds + 1) << rill_test::flavor_name(fl);
        EXPECT_EQ(helper.fired.load(), rounds);
    }
}

/// The waker is fired at a random moment: during the poll, between polls, or while the
/// task is queued. Every pending poll is followed by another poll.
struct woken_anytime {
    wake_thread* helper;
    std::uint64_t rounds;
    std::mt19937_64* rng;
    std::uint64_t polls = 0;
    std::optional<std::uint64_t> poll(rill::context& cx) {
        ++polls;
        if (polls > rounds) return polls;
        helper->post(cx.waker(), (*rng)() % 400);
        if ((*rng)() % 4 == 0) rill_test::spin((*rng)() % 400);
        return std::nullopt;
    }
};

rill::task<std::uint64_t> run_woken_anytime(wake_thread* helper, std::uint64_t rounds, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    woken_anytime p{helper, rounds, &rng};
    co_return co_await rill::poll_fn(p);
}

TEST_F(wake_stress, no_wake_is_lost) {
    for (auto fl : {rill::flavor::multi_thread, rill::flavor::current_thread}) {
        auto rt = rill_test::make_rt(fl, 2);
        wake_thread helper;
        const std::uint64_t rounds = scaled(30'000);
        EXPECT_EQ(rt.block_on(run_woken_anytime(&helper, rounds, seed())), rounds + 1);
    }
}

/// Many tasks, each woken by one of several threads at random.
rill::task<std::uint64_t> many_wakers_task(std::vector<std::unique_ptr<wake_thread>>* helpers, std::uint64_t rounds,
                                           std::uint64_t seed) {
    struct p_t {
        std::vector<std::unique_ptr<wake_thread>>* helpers;
        std::uint64_t rounds;
        std::mt19937_64 rng;
        std::uint64_t polls = 0;
        std::optional<std::uint64_t> poll(rill::context& cx) {
            ++polls;
            if (polls > rounds) return polls;
            // Two wakers for the same await: both may fire; the task runs at least once more.
            (*helpers)[rng() % helpers->size()]->post(cx.waker(), rng() % 500);
            if (rng() % 2) (*helpers)[rng() % helpers->size()]->post(cx.waker(), rng() % 500);
            return std::nullopt;
        }
    };
    p_t p{helpers, rounds, std::mt19937_64(seed)};
    co_return co_await rill::poll_fn(p);
}

rill::task<std::uint64_t> run_many(std::vector<std::unique_ptr<wake_thread>>* helpers, int tasks, std::uint64_t rounds,
                                   std::uint64_t seed) {
    std::vector<rill::join_handle<std::uint64_t>> hs;
    for (int i = 0; i < tasks; ++i) hs.push_back(rill::spawn(many_wakers_task(helpers, rounds, seed + static_cast<std::uint64_t>(i))));
    std::uint64_t done = 0;
    for (auto& h : hs) {
        const std::uint64_t polls = co_await h;
        if (polls == rounds + 1) ++done;
    }
    co_return done;
}

TEST_F(wake_stress, many_tasks_many_waking_threads) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    std::vector<std::unique_ptr<wake_thread>> helpers;
    for (int i = 0; i < 3; ++i) helpers.push_back(std::make_unique<wake_thread>());
    const int tasks = 64;
    const std::uint64_t rounds = scaled(800);
    EXPECT_EQ(rt.block_on(run_many(&helpers, tasks, rounds, seed())), static_cast<std::uint64_t>(tasks));
}

/// Wakes fired at an await that is being cancelled (abort) at the same time.
struct parked_forever {
    wake_thread* helper;
    std::uint64_t spin;
    std::optional<int> poll(rill::context& cx) {
        helper->post(cx.waker(), spin);
        return std::nullopt;  // spurious wakes: poll again, stay pending
    }
};

rill::task<int> await_forever(wake_thread* helper, std::uint64_t spin) { co_return co_await rill::poll_fn(parked_forever{helper, spin}); }

TEST_F(wake_stress, wakes_racing_cancellation) {
    auto rt = rill::builder::new_multi_thread().worker_threads(3).build();
    wake_thread helper;
    const int rounds = static_cast<int>(scaled(10'000));
    int cancelled = 0;
    for (int i = 0; i < rounds; ++i) {
        auto h = rt.spawn(await_forever(&helper, rand(0, 300)));
        rill_test::spin(rand(0, 1000));
        h.abort();
        try {
            rt.block_on([](rill::join_handle<int>* j) -> rill::task<int> { co_return co_await *j; }(&h));
        } catch (const rill::join_error&) {
            ++cancelled;
        }
    }
    EXPECT_EQ(cancelled, rounds);
}

rill::task<int> await_forever_then_drop_runtime(wake_thread* helper) { co_return co_await rill::poll_fn(parked_forever{helper, 0}); }

TEST_F(wake_stress, user_wakes_racing_runtime_shutdown) {
    wake_thread helper;
    const int rounds = static_cast<int>(scaled(400));
    for (int i = 0; i < rounds; ++i) {
        auto rt = rill_test::make_rt(coin() ? rill::flavor::multi_thread : rill::flavor::current_thread, 2);
        for (int k = 0; k < 4; ++k) rt.spawn(await_forever_then_drop_runtime(&helper)).detach();
        rt.block_on([]() -> rill::task<void> {
            for (int k = 0; k < 8; ++k) co_await rill::yield_now();
        }());
        rill_test::spin(rand(0, 5000));
        // The runtime goes away while the helper may be waking its tasks.
    }
}

}  // namespace
