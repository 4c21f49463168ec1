// Custom pollables (rill::poll_fn) and rill::waker: the lowest level a user extends rill at,
// the equivalent of implementing Future::poll by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

namespace {

class waker_both : public rill_test::both_flavors {};

// --- simple pollables ----------------------------------------------------------------------

struct ready_now {
    int polls = 0;
    std::optional<int> poll(rill::context&) {
        ++polls;
        return 17;
    }
};

struct self_waking {
    int polls = 0;
    int pending_rounds = 3;
    std::optional<int> poll(rill::context& cx) {
        ++polls;
        if (pending_rounds-- > 0) {
            cx.waker().wake_by_ref();  // "yield": ready to be polled again at once
            return std::nullopt;
        }
        return polls;
    }
};

rill::task<int> await_ref(ready_now* p) { co_return co_await rill::poll_fn(*p); }
rill::task<int> await_self_waking(self_waking* p) { co_return co_await rill::poll_fn(*p); }
rill::task<int> await_owned() { co_return co_await rill::poll_fn(self_waking{}); }

TEST_P(waker_both, ready_pollable_is_polled_once) {
    auto rt = this->rt();
    ready_now p;
    EXPECT_EQ(rt.block_on(await_ref(&p)), 17);
    EXPECT_EQ(p.polls, 1);
}

TEST_P(waker_both, a_wake_during_poll_leads_to_another_poll) {
    auto rt = this->rt();
    self_waking p;
    EXPECT_EQ(rt.block_on(await_self_waking(&p)), 4);
    EXPECT_EQ(p.polls, 4);  // the reference pollable kept its state
    EXPECT_EQ(rt.block_on(await_owned()), 4);
}

struct move_only_result {
    std::optional<std::unique_ptr<int>> poll(rill::context&) { return std::make_unique<int>(8); }
};

rill::task<int> await_move_only() {
    std::unique_ptr<int> p = co_await rill::poll_fn(move_only_result{});
    co_return *p;
}

TEST_P(waker_both, move_only_output) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(await_move_only()), 8);
}

// --- a Delay: a pollable completed by its own thread (the guide's example) -----------------

/// Completes after `dur`; a thread sleeps and then wakes the waker it was last given.
/// The pollable's destructor stops and joins its thread, so it never outlives the await.
class delay {
public:
    explicit delay(std::chrono::milliseconds dur) : state_(std::make_shared<shared>()), dur_(dur) {}
    delay(delay&&) noexcept = default;
    ~delay() {
        if (!state_) return;
        {
            std::lock_guard lock(state_->mutex);
            state_->cancelled = true;
        }
        state_->cv.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    std::optional<int> poll(rill::context& cx) {
        ++polls_;
        std::lock_guard lock(state_->mutex);
        if (state_->done) return polls_;
        // Keep the newest waker (a task may be polled with a different one each time).
        if (!state_->waker.will_wake(cx.waker())) state_->waker = cx.waker();
        if (!thread_.joinable()) {
            thread_ = std::thread([s = state_, d = dur_] {
                std::unique_lock lk(s->mutex);
                s->cv.wait_for(lk, d, [&] { return s->cancelled; });
                s->done = true;
                rill::waker w = std::move(s->waker);
                lk.unlock();
                std::move(w).wake();
            });
        }
        return std::nullopt;
    }

private:
    struct shared {
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;
        bool cancelled = false;
        rill::waker waker;
    };
    std::shared_ptr<shared> state_;
    std::thread thread_;
    std::chrono::milliseconds dur_;
    int polls_ = 0;
};

rill::task<int> await_delay(int ms) { co_return co_await rill::poll_fn(delay(std::chrono::milliseconds(ms))); }

TEST_P(waker_both, delay_woken_from_its_own_thread_completes) {
    auto rt = this->rt();
    const int polls = rt.block_on(await_delay(5));
    EXPECT_GE(polls, 2);  // pending, then ready after the wake
}

rill::task<int> many_delays(int n) {
    std::vector<rill::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(rill::spawn(await_delay(i % 4)));
    int done = 0;
    for (auto& h : hs) {
        co_await h;
        ++done;
    }
    co_return done;
}

TEST_P(waker_both, many_concurrent_delays) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(many_delays(64)), 64);
}

rill::task<void> abort_a_delay() {
    auto h = rill::spawn(await_delay(60'000));
    co_await rill::yield_now();
    h.abort();  // destroys the delay, whose destructor stops its thread
    try {
        co_await h;
    } catch (const rill::join_error&) {
    }
}

TEST_P(waker_both, cancelling_a_pending_pollable_destroys_it) {
    rill_test::watchdog dog("cancelled delay");
    auto rt = this->rt();
    rt.block_on(abort_a_delay());
}

// --- wakers that outlive their await -------------------------------------------------------

/// Hands a clone of every waker it sees to `sink`, then completes on the second poll.
struct leaky {
    std::vector<rill::waker>* sink;
    int polls = 0;
    std::optional<int> poll(rill::context& cx) {
        ++polls;
        sink->push_back(cx.waker());
        if (polls == 1) {
            cx.waker().wake_by_ref();
            return std::nullopt;
        }
        return polls;
    }
};

struct counting_pending {
    int* polls;
    rill::waker* keep;
    std::optional<int> poll(rill::context& cx) {
        ++*polls;
        *keep = cx.waker();
        return std::nullopt;
    }
};

TEST(waker, late_wake_after_the_await_ended_is_a_noop) {
    std::vector<rill::waker> kept;
    int polls = 0;
    {
        auto t = [](std::vector<rill::waker>* s, int* p) -> rill::task<int> {
            leaky l{s, 0};
            const int r = co_await rill::poll_fn(l);
            *p = l.polls;
            co_return r;
        };
        rill::test::mock_task m(t(&kept, &polls));
        EXPECT_TRUE(m.poll().is_pending());
        EXPECT_TRUE(m.is_woken());
        auto r = m.poll();
        ASSERT_TRUE(r.is_ready());
        EXPECT_EQ(*r, 2);
        EXPECT_EQ(m.waker_count(), kept.size());  // the clones still hold the task
        for (auto& w : kept) w.wake_by_ref();      // stale: no effect
        EXPECT_FALSE(m.is_woken());
    }
    // The mock is gone; the stale wakers are still safe to wake and drop.
    for (auto& w : kept) w.wake_by_ref();
    for (auto& w : kept) std::move(w).wake();
    kept.clear();
    EXPECT_EQ(polls, 2);
}

TEST(waker, copies_and_moves) {
    rill::waker empty;
    EXPECT_FALSE(static_cast<bool>(empty));
    empty.wake_by_ref();  // no-op
    std::move(empty).wake();

    int polls = 0;
    rill::waker keep;
    auto t = [](int* p, rill::waker* k) -> rill::task<int> { co_return co_await rill::poll_fn(counting_pending{p, k}); };
    rill::test::mock_task m(t(&polls, &keep));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(m.waker_count(), 1u);
    rill::waker copy = keep;
    EXPECT_TRUE(copy.will_wake(keep));
    EXPECT_EQ(m.waker_count(), 2u);
    rill::waker moved = std::move(copy);
    EXPECT_FALSE(static_cast<bool>(copy));  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(m.waker_count(), 2u);
    std::move(moved).wake();
    EXPECT_FALSE(static_cast<bool>(moved));  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(m.waker_count(), 1u);
    EXPECT_TRUE(m.is_woken());
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(polls, 2);
    EXPECT_FALSE(m.is_woken());
    keep = rill::waker();
    EXPECT_EQ(m.waker_count(), 0u);
}

TEST(waker, poll_without_a_wake_does_not_repoll) {
    int polls = 0;
    rill::waker keep;
    auto t = [](int* p, rill::waker* k) -> rill::task<int> { co_return co_await rill::poll_fn(counting_pending{p, k}); };
    rill::test::mock_task m(t(&polls, &keep));
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(polls, 1);
    keep.wake_by_ref();
    keep.wake_by_ref();  // two wakes before the poll: one re-poll
    EXPECT_TRUE(m.poll().is_pending());
    EXPECT_EQ(polls, 2);
}

TEST(waker, wake_from_another_thread_marks_the_mock_woken) {
    int polls = 0;
    rill::waker keep;
    auto t = [](int* p, rill::waker* k) -> rill::task<int> { co_return co_await rill::poll_fn(counting_pending{p, k}); };
    rill::test::mock_task m(t(&polls, &keep));
    EXPECT_TRUE(m.poll().is_pending());
    std::thread th([w = keep] { w.wake_by_ref(); });
    th.join();
    EXPECT_TRUE(m.is_woken());
}

struct destroy_flag {
    std::atomic<int>* destroyed;
    rill::waker* keep;
    explicit destroy_flag(std::atomic<int>* d, rill::waker* k) : destroyed(d), keep(k) {}
    destroy_flag(destroy_flag&& o) noexcept : destroyed(std::exchange(o.destroyed, nullptr)), keep(o.keep) {}
    ~destroy_flag() {
        if (destroyed) destroyed->fetch_add(1);
    }
    std::optional<int> poll(rill::context& cx) {
        *keep = cx.waker();
        return std::nullopt;
    }
};

TEST(waker, destroying_the_await_destroys_the_pollable_and_disarms_its_wakers) {
    std::atomic<int> destroyed{0};
    rill::waker keep;
    {
        auto t = [](std::atomic<int>* d, rill::waker* k) -> rill::task<int> {
            co_return co_await rill::poll_fn(destroy_flag(d, k));
        };
        rill::test::mock_task m(t(&destroyed, &keep));
        EXPECT_TRUE(m.poll().is_pending());
        EXPECT_EQ(destroyed.load(), 0);
        EXPECT_EQ(m.waker_count(), 1u);
    }
    EXPECT_EQ(destroyed.load(), 1);
    keep.wake_by_ref();  // the await is gone: a no-op
    std::move(keep).wake();
}

rill::task<int> keep_waker_past_completion(std::vector<rill::waker>* kept) {
    leaky l{kept, 0};
    co_return co_await rill::poll_fn(l);
}

TEST_P(waker_both, waker_outliving_the_task_and_the_runtime_is_safe) {
    std::vector<rill::waker> kept;
    {
        auto rt = this->rt();
        EXPECT_EQ(rt.block_on(keep_waker_past_completion(&kept)), 2);
    }
    for (auto& w : kept) w.wake_by_ref();
    kept.clear();
}

RILL_BOTH_FLAVORS(waker_both);

}  // namespace
