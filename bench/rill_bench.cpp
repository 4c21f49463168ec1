// rill_bench: rill's side of the runtime benchmarks in ../../shared/anchors.
//
//     rill_bench NAME [N]
//
// Prints exactly one line on stdout (contract: shared/anchors/README.md §1):
//     bench=<name> n=<n> secs=<s> rate=<ops/s> rss_mb=<MB> [bytes_per_task=<B>]
// Diagnostics go to stderr. An unknown NAME, or a benchmark that computes the wrong
// answer, exits non-zero.
//
// Every workload mirrors the Tokio reference program
// (shared/anchors/runtime/rust/src/main.rs) with rill's own primitives: same task
// structure, same synchronisation (an Arc'd count-down latch over a Notify, a oneshot),
// same measured section. Like the Tokio main, the body runs inside a task spawned from
// the block_on task, so it executes on a worker of the default multi-thread runtime.
//
// Adding a benchmark: write `rill::task<outcome> NAME(std::size_t n)` below and add one
// line to `benches` at the end of the file (and a small "NAME N" line to names.txt, which
// the bench_smoke test runs in every preset, sanitizers included).
//
// Coroutines here are free functions taking their state by value, never capturing
// lambdas: a lambda's captures live in the closure, not in the coroutine frame.
#include <rill/rill.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace {

using clock_type = std::chrono::steady_clock;

// ------------------------------------------------------------------ helpers

/// Value (kB) of a field of /proc/self/status such as "VmHWM:" or "VmRSS:"; 0 if absent.
std::uint64_t proc_status_kb(std::string_view field) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return 0;
    char line[256];
    std::uint64_t kb = 0;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        std::string_view l(line);
        if (l.starts_with(field)) {
            kb = std::strtoull(line + field.size(), nullptr, 10);
            break;
        }
    }
    std::fclose(f);
    return kb;
}

/// What a benchmark reports.
struct outcome {
    std::uint64_t ops = 0;  // operations counted for the rate
    double secs = 0;        // the measured section only
    std::optional<double> bytes_per_task;
};

outcome outcome_since(std::uint64_t ops, clock_type::time_point start) {
    return {ops, std::chrono::duration<double>(clock_type::now() - start).count(), std::nullopt};
}

/// A wrong answer: the benchmark fails instead of printing a rate.
[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

/// Minimal intrusive Arc: one pointer (8 bytes in a frame, as Rust's Arc<T>), one
/// atomic increment per clone and one decrement per drop.
template <class T>
class arc {
public:
    template <class... A>
    static arc make(A&&... a) {
        return arc(new box{{1}, T(std::forward<A>(a)...)});
    }
    arc(const arc& o) noexcept : p_(o.p_) { p_->refs.fetch_add(1, std::memory_order_relaxed); }
    arc(arc&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    arc& operator=(const arc&) = delete;
    arc& operator=(arc&&) = delete;
    ~arc() {
        if (p_ != nullptr && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
    }
    T* operator->() const noexcept { return &p_->value; }
    T& operator*() const noexcept { return p_->value; }

private:
    struct box {
        std::atomic<std::size_t> refs;
        T value;
    };
    explicit arc(box* p) noexcept : p_(p) {}
    box* p_;
};

/// Count-down latch (the Rust program's Latch): the task that brings the count to zero
/// wakes the waiter through a notify; notify_one stores a permit if nobody waits yet.
class latch {
public:
    explicit latch(std::size_t n) noexcept : remaining_(n) {}

    void count_down() {
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) notify_.notify_one();
    }
    rill::task<> wait() {
        if (remaining_.load(std::memory_order_acquire) == 0) co_return;
        co_await notify_.notified();
    }
    std::size_t remaining() const noexcept { return remaining_.load(std::memory_order_acquire); }

private:
    std::atomic<std::size_t> remaining_;
    rill::sync::notify notify_;
};

/// An awaitable that is never ready and registers no waker anywhere
/// (std::future::pending()): the task stays parked until the runtime destroys it.
struct pending_forever {
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<>) const noexcept { return true; }
    [[noreturn]] void await_resume() const noexcept { std::abort(); }
};

// --------------------------------------------------------------- benchmarks

// spawn_many: spawn n trivial tasks from inside a task; each counts the latch down.
rill::task<> spawn_many_task(arc<latch> l) {
    l->count_down();
    co_return;
}

rill::task<outcome> spawn_many(std::size_t n) {
    arc<latch> l = arc<latch>::make(n);
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) rill::spawn(spawn_many_task(l)).detach();
    co_await l->wait();
    outcome out = outcome_since(n, start);
    if (l->remaining() != 0) fail("spawn_many: latch not at zero");
    co_return out;
}

// idle_tasks_pending: n tasks that count the latch down and then park forever on a
// never-ready awaitable; once all have been polled, RSS growth per task. The tasks are
// destroyed by the runtime's teardown after the line is printed.
rill::task<> idle_pending_task(arc<latch> l) {
    l->count_down();
    co_await pending_forever{};
}

/// Spawns n tasks made by `make(latch)`, waits until all have been polled once, then
/// reports bytes of RSS growth per task (shared by the idle_tasks_* benchmarks).
rill::task<outcome> measure_idle(std::size_t n, rill::task<> (*make)(arc<latch>), const char* name) {
    arc<latch> l = arc<latch>::make(n);
    co_await rill::time::sleep(std::chrono::milliseconds(20));  // let the runtime settle
    const std::uint64_t base_kb = proc_status_kb("VmRSS:");
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) rill::spawn(make(l)).detach();
    co_await l->wait();
    outcome out = outcome_since(n, start);
    // Give the worker that counted down last a moment to finish its poll.
    co_await rill::time::sleep(std::chrono::milliseconds(20));
    const std::uint64_t now_kb = proc_status_kb("VmRSS:");
    if (l->remaining() != 0) fail(std::string(name) + ": latch not at zero");
    const std::uint64_t grown_kb = now_kb > base_kb ? now_kb - base_kb : 0;
    out.bytes_per_task = n == 0 ? 0.0 : static_cast<double>(grown_kb) * 1024.0 / static_cast<double>(n);
    co_return out;
}

rill::task<outcome> idle_tasks_pending(std::size_t n) { return measure_idle(n, &idle_pending_task, "idle_tasks_pending"); }

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
void chain_step(rill::sync::oneshot::sender<std::uint64_t> done, std::size_t left, std::uint64_t hops);

rill::task<> chain_task(rill::sync::oneshot::sender<std::uint64_t> done, std::size_t left, std::uint64_t hops) {
    chain_step(std::move(done), left, hops);
    co_return;
}

void chain_step(rill::sync::oneshot::sender<std::uint64_t> done, std::size_t left, std::uint64_t hops) {
    if (left == 0) {
        (void)done.send(hops);
    } else {
        rill::spawn(chain_task(std::move(done), left - 1, hops + 1)).detach();
    }
}

rill::task<outcome> chained_spawn(std::size_t n) {
    auto [tx, rx] = rill::sync::oneshot::channel<std::uint64_t>();
    const auto start = clock_type::now();
    chain_step(std::move(tx), n, 0);
    const std::uint64_t hops = co_await std::move(rx);
    outcome out = outcome_since(n, start);
    if (hops != n) fail("chained_spawn: chain ended after the wrong number of spawns");
    co_return out;
}

// idle_tasks_memory: as idle_tasks_pending, but each task parks in a 60 s sleep (a
// timer registered in the wheel), so the figure includes a pending timer per task.
rill::task<> idle_sleep_task(arc<latch> l) {
    l->count_down();
    co_await rill::time::sleep(std::chrono::seconds(60));
}

rill::task<outcome> idle_tasks_memory(std::size_t n) { return measure_idle(n, &idle_sleep_task, "idle_tasks_memory"); }

/// xorshift64* with the anchors' seed (README §1).
struct xorshift {
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    std::uint64_t next() noexcept {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        return x * 0x2545F4914F6CDD1Dull;
    }
};

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

// ----------------------------------------------------------------- registry

struct bench_def {
    std::string_view name;
    std::size_t default_n;
    rill::task<outcome> (*run)(std::size_t n);
};

// Same names and default N as the Tokio program's BENCHES.
constexpr bench_def benches[] = {
    {"spawn_many", 1'000'000, &spawn_many},
    {"idle_tasks_pending", 1'000'000, &idle_tasks_pending},
    {"yield_many", 1'000'000, &yield_many},
    {"chained_spawn", 1'000'000, &chained_spawn},
    {"idle_tasks_memory", 1'000'000, &idle_tasks_memory},
    {"timers", 1'000'000, &timers},
    {"timer_churn", 10'000'000, &timer_churn},
};

const bench_def* find_bench(std::string_view name) {
    for (const bench_def& b : benches)
        if (b.name == name) return &b;
    return nullptr;
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: rill_bench <bench> [n]\nbenches (default n):\n");
    for (const bench_def& b : benches) std::fprintf(stderr, "  %.*s (%zu)\n", int(b.name.size()), b.name.data(), b.default_n);
    std::exit(2);
}

/// N as the Rust program parses it: decimal digits, '_' separators allowed.
std::optional<std::size_t> parse_n(std::string_view s) {
    std::size_t v = 0;
    bool any = false;
    for (char c : s) {
        if (c == '_') continue;
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::size_t>(c - '0');
        any = true;
    }
    return any ? std::optional<std::size_t>(v) : std::nullopt;
}

/// The block_on task: spawns the body so it runs on a worker, as `tokio::spawn(fut).await`.
rill::task<outcome> run_spawned(const bench_def* b, std::size_t n) {
    co_return co_await rill::spawn(b->run(n));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage();
    const bench_def* b = find_bench(argv[1]);
    if (b == nullptr) usage();
    std::size_t n = b->default_n;
    if (argc >= 3) {
        auto parsed = parse_n(argv[2]);
        if (!parsed) usage();
        n = *parsed;
    }

    int rc = 0;
    {
        // Multi-thread scheduler with the default worker count (= CPUs), everything
        // enabled, as the Tokio program builds it.
        std::optional<rill::runtime> rt(rill::builder::new_multi_thread().enable_all().build());
        try {
            const outcome out = rt->block_on(run_spawned(b, n));
            const double hwm_mb = static_cast<double>(proc_status_kb("VmHWM:")) / 1024.0;
            const double rate = out.secs > 0 ? static_cast<double>(out.ops) / out.secs : 0.0;
            char line[512];
            int len = std::snprintf(line, sizeof line, "bench=%.*s n=%llu secs=%.6f rate=%.1f rss_mb=%.1f",
                                    int(b->name.size()), b->name.data(), static_cast<unsigned long long>(out.ops),
                                    out.secs, rate, hwm_mb);
            if (out.bytes_per_task && len > 0 && static_cast<std::size_t>(len) < sizeof line)
                std::snprintf(line + len, sizeof line - static_cast<std::size_t>(len), " bytes_per_task=%.1f",
                              *out.bytes_per_task);
            std::printf("%s\n", line);
            std::fflush(stdout);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rill_bench %s: FAILED: %s\n", argv[1], e.what());
            rc = 1;
        }
        // Tear down (not timed): destroys every task still parked.
        const auto t = clock_type::now();
        rt.reset();
        std::fprintf(stderr, "# %s: runtime drop took %.3fs\n", argv[1],
                     std::chrono::duration<double>(clock_type::now() - t).count());
    }
    return rc;
}
