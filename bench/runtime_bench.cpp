// The runtime benchmarks of shared/anchors/README.md §1 (spawn, yield, idle tasks,
// timers). Each workload mirrors the Tokio reference program
// (shared/anchors/runtime/rust/src/main.rs) with rill's own primitives: same task
// structure, same synchronisation (an Arc'd count-down latch over a Notify, a oneshot),
// same measured section.
#include "common.hpp"

namespace rill_bench {
namespace {

// spawn_many: spawn n trivial tasks from inside a task; each counts the latch down.
rill::task<> spawn_many_task(arc<latch> l) {
    l->count_down();
    co_return;
}

// spawn_many_call: the same, spawned as spawn(rill::call(f, l)) (cell and frame in one
// block, the form idle_tasks_pending uses).
rill::task<outcome> spawn_many_impl(std::size_t n, bool fused) {
    arc<latch> l = arc<latch>::make(n);
    const auto start = clock_type::now();
    if (fused) {
        for (std::size_t i = 0; i < n; ++i) rill::spawn(rill::call(spawn_many_task, l)).detach();
    } else {
        for (std::size_t i = 0; i < n; ++i) rill::spawn(spawn_many_task(l)).detach();
    }
    co_await l->wait();
    outcome out = outcome_since(n, start);
    if (l->remaining() != 0) fail("spawn_many: latch not at zero");
    co_return out;
}

rill::task<outcome> spawn_many(std::size_t n) { return spawn_many_impl(n, false); }
rill::task<outcome> spawn_many_call(std::size_t n) { return spawn_many_impl(n, true); }

// idle_tasks_pending: n tasks that count the latch down and then park forever on a
// never-ready awaitable; once all have been polled, RSS growth per task. The tasks are
// destroyed by the runtime's teardown after the line is printed. Spawned as
// spawn(rill::call(f, l)), rill's form of Tokio's spawn(async move {...}): the task's
// cell and its frame are one block, as a Tokio task holds its future.
// idle_tasks_pending_plain: the same tasks spawned as spawn(f(l)), where the frame exists
// before spawn sees it and the cell is a second block.
rill::task<> idle_pending_task(arc<latch> l) {
    l->count_down();
    co_await pending_forever{};
}

/// Spawns n tasks made by `make(latch)` (through rill::call when `fused`), waits until
/// all have been polled once, then reports bytes of RSS growth per task (shared by the
/// idle_tasks_* benchmarks).
rill::task<outcome> measure_idle(std::size_t n, rill::task<> (*make)(arc<latch>), const char* name, bool fused = true) {
    arc<latch> l = arc<latch>::make(n);
    co_await rill::time::sleep(std::chrono::milliseconds(20));  // let the runtime settle
    const std::uint64_t base_kb = rss_exact_kb();
    const auto start = clock_type::now();
    if (fused) {
        for (std::size_t i = 0; i < n; ++i) rill::spawn(rill::call(make, l)).detach();
    } else {
        for (std::size_t i = 0; i < n; ++i) rill::spawn(make(l)).detach();
    }
    co_await l->wait();
    outcome out = outcome_since(n, start);
    // Give the worker that counted down last a moment to finish its poll.
    co_await rill::time::sleep(std::chrono::milliseconds(20));
    const std::uint64_t now_kb = rss_exact_kb();
    if (l->remaining() != 0) fail(std::string(name) + ": latch not at zero");
    const std::uint64_t grown_kb = now_kb > base_kb ? now_kb - base_kb : 0;
    out.bytes_per_task = n == 0 ? 0.0 : static_cast<double>(grown_kb) * 1024.0 / static_cast<double>(n);
    co_return out;
}

rill::task<outcome> idle_tasks_pending(std::size_t n) { return measure_idle(n, &idle_pending_task, "idle_tasks_pending"); }
rill::task<outcome> idle_tasks_pending_plain(std::size_t n) {
    return measure_idle(n, &idle_pending_task, "idle_tasks_pending_plain", false);
}

// yield_many: 1000 tasks, each yields n/1000 times. Each task adds the yields it made to
// a shared total once at the end (checked), then counts the latch down.
struct yield_state {
    latch done;
    std::atomic<std::uint64_t> yields{0};
    explicit yield_state(std::size_t tasks) noexcept : done(tasks) {}
};

rill::task<> yield_task(arc<yield_state> s, std::size_t per) {
    std::uint64_t mine = 0;
    for (std::size_t i = 0; i < per; ++i) {
        co_await rill::yield_now();
        ++mine;
    }
    s->yields.fetch_add(mine, std::memory_order_relaxed);
    s->done.count_down();
}

rill::task<outcome> yield_many(std::size_t n) {
    constexpr std::size_t tasks = 1000;
    const std::size_t per = std::max<std::size_t>(n / tasks, 1);
    arc<yield_state> s = arc<yield_state>::make(tasks);
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < tasks; ++i) rill::spawn(yield_task(s, per)).detach();
    co_await s->done.wait();
    outcome out = outcome_since(per * tasks, start);
    if (s->yields.load(std::memory_order_relaxed) != per * tasks) fail("yield_many: wrong number of yields");
    co_return out;
}

// chained_spawn: each task spawns the next and returns (a spawned task runs only after
// its parent's poll, so no recursion on the stack); the last sends on a oneshot that the
// benchmark task awaits. The value sent is the number of hops, checked against n.
// chained_spawn_call: the same, spawned as spawn(rill::call(...)).
template <bool Fused>
void chain_step(rill::sync::oneshot::sender<std::uint64_t> done, std::size_t left, std::uint64_t hops);

template <bool Fused>
rill::task<> chain_task(rill::sync::oneshot::sender<std::uint64_t> done, std::size_t left, std::uint64_t hops) {
    chain_step<Fused>(std::move(done), left, hops);
    co_return;
}

template <bool Fused>
void chain_step(rill::sync::oneshot::sender<std::uint64_t> done, std::size_t left, std::uint64_t hops) {
    if (left == 0) {
        (void)done.send(hops);
    } else if constexpr (Fused) {
        rill::spawn(rill::call(chain_task<Fused>, std::move(done), left - 1, hops + 1)).detach();
    } else {
        rill::spawn(chain_task<Fused>(std::move(done), left - 1, hops + 1)).detach();
    }
}

template <bool Fused>
rill::task<outcome> chained_spawn_impl(std::size_t n) {
    auto [tx, rx] = rill::sync::oneshot::channel<std::uint64_t>();
    const auto start = clock_type::now();
    chain_step<Fused>(std::move(tx), n, 0);
    const std::uint64_t hops = co_await std::move(rx);
    outcome out = outcome_since(n, start);
    if (hops != n) fail("chained_spawn: chain ended after the wrong number of spawns");
    co_return out;
}

rill::task<outcome> chained_spawn(std::size_t n) { return chained_spawn_impl<false>(n); }
rill::task<outcome> chained_spawn_call(std::size_t n) { return chained_spawn_impl<true>(n); }

// idle_tasks_memory: as idle_tasks_pending, but each task parks in a 60 s sleep (a
// timer registered in the wheel), so the figure includes a pending timer per task.
rill::task<> idle_sleep_task(arc<latch> l) {
    l->count_down();
    co_await rill::time::sleep(std::chrono::seconds(60));
}

rill::task<outcome> idle_tasks_memory(std::size_t n) { return measure_idle(n, &idle_sleep_task, "idle_tasks_memory"); }

// timers: n tasks, task i sleeps 1 + xorshift() % 1000 ms (drawn in spawn order); the
// latch opens when all have woken. Each checks it did not wake early. Timed over the
// whole run.
struct timers_state {
    latch done;
    std::atomic<std::uint64_t> early{0};
    explicit timers_state(std::size_t n) noexcept : done(n) {}
};

rill::task<> timer_task(arc<timers_state> s, std::uint64_t ms) {
    const auto deadline = rill::time::instant::now() + std::chrono::milliseconds(ms);
    co_await rill::time::sleep_until(deadline);
    if (rill::time::instant::now() < deadline) s->early.fetch_add(1, std::memory_order_relaxed);
    s->done.count_down();
}

rill::task<outcome> timers(std::size_t n) {
    arc<timers_state> s = arc<timers_state>::make(n);
    xorshift rng;
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) rill::spawn(timer_task(s, 1 + rng.next() % 1000)).detach();
    co_await s->done.wait();
    outcome out = outcome_since(n, start);
    if (s->done.remaining() != 0) fail("timers: latch not at zero");
    if (s->early.load() != 0) fail("timers: a sleep woke before its deadline");
    co_return out;
}

// timer_churn: one task, n times: create sleep(1 hour), register it once (the first
// poll of a Tokio Sleep: it enters the wheel and is pending), drop it (it leaves the
// wheel). rill has no "poll once" for an awaiter, so this drives the timer's awaiter
// protocol by hand from inside the task: await_suspend registers it with the task's
// wake node, the destructor unregisters it. Nothing suspends.
struct current_handle {
    using handle_type = std::coroutine_handle<rill::detail::task_promise<outcome>>;
    handle_type h;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(handle_type self) noexcept {
        h = self;
        return false;  // do not suspend: just learn our own handle
    }
    handle_type await_resume() const noexcept { return h; }
};

rill::task<outcome> timer_churn(std::size_t n) {
    auto self = co_await current_handle{};
    std::uint64_t registered = 0;
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) {
        rill::time::timer t = rill::time::sleep(std::chrono::hours(1));
        if (!t.await_ready() && t.await_suspend(self)) ++registered;
    }  // ~timer unregisters it
    outcome out = outcome_since(n, start);
    if (registered != n) fail("timer_churn: a 1 hour sleep was not pending");
    co_return out;
}

}  // namespace

RILL_BENCH(spawn_many, 1'000'000);
RILL_BENCH(spawn_many_call, 1'000'000);
RILL_BENCH(idle_tasks_pending, 1'000'000);
RILL_BENCH(idle_tasks_pending_plain, 1'000'000);
RILL_BENCH(yield_many, 1'000'000);
RILL_BENCH(chained_spawn, 1'000'000);
RILL_BENCH(chained_spawn_call, 1'000'000);
RILL_BENCH(idle_tasks_memory, 1'000'000);
RILL_BENCH(timers, 1'000'000);
RILL_BENCH(timer_churn, 10'000'000);

}  // namespace rill_bench
