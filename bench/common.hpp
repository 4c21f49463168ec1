// Shared by every bench/*.cpp: the outcome a benchmark reports, the Arc and latch the
// Tokio program uses, and the registry. A benchmark is a free coroutine
// `rill::task<outcome> NAME(std::size_t n)` registered once at namespace scope:
//
//     RILL_BENCH(NAME, default_n);
//
// (plus a small "NAME N" line in bench/names.txt, which the bench_smoke test runs in every
// preset, sanitizers included). Names and default N match the Tokio program's BENCHES
// (shared/anchors/runtime/rust/src/main.rs).
//
// Coroutines here are free functions taking their state by value, never capturing
// lambdas: a lambda's captures live in the closure, not in the coroutine frame.
#pragma once

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

namespace rill_bench {

using clock_type = std::chrono::steady_clock;

/// Value (kB) of a field of a /proc/self file; 0 if absent.
inline std::uint64_t proc_file_kb(const char* path, std::string_view field) {
    std::FILE* f = std::fopen(path, "r");
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

/// Value (kB) of a field of /proc/self/status such as "VmHWM:" or "VmRSS:"; 0 if absent.
inline std::uint64_t proc_status_kb(std::string_view field) { return proc_file_kb("/proc/self/status", field); }

/// Resident anonymous memory (kB), exact: "Anonymous:" of /proc/self/smaps_rollup, which
/// walks the page tables. For the idle-task benchmarks, where a tenth of a byte per task
/// matters, VmRSS is too coarse: on current kernels it is read from per-CPU batched
/// counters (off by up to ~32 pages per CPU), and it counts the pages of library code
/// that the measured section runs for the first time (~90 KiB here, a tenth of a byte per
/// task at a million tasks). Falls back to VmRSS where smaps_rollup is missing.
inline std::uint64_t rss_exact_kb() {
    const std::uint64_t kb = proc_file_kb("/proc/self/smaps_rollup", "Anonymous:");
    return kb != 0 ? kb : proc_status_kb("VmRSS:");
}

/// What a benchmark reports.
struct outcome {
    std::uint64_t ops = 0;  // operations counted for the rate
    double secs = 0;        // the measured section only
    std::optional<double> bytes_per_task;
};

inline outcome outcome_since(std::uint64_t ops, clock_type::time_point start) {
    return {ops, std::chrono::duration<double>(clock_type::now() - start).count(), std::nullopt};
}

/// A wrong answer: the benchmark fails instead of printing a rate.
[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

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

// ----------------------------------------------------------------- registry

struct bench_def {
    std::string_view name;
    std::size_t default_n;
    rill::task<outcome> (*run)(std::size_t n);
};

/// Adds a benchmark to the registry (called by RILL_BENCH's static initialisers).
bool register_bench(bench_def def);

}  // namespace rill_bench

#define RILL_BENCH_CAT2(a, b) a##b
#define RILL_BENCH_CAT(a, b) RILL_BENCH_CAT2(a, b)
/// Registers `rill::task<outcome> NAME(std::size_t)` under the name "NAME".
#define RILL_BENCH(NAME, DEFAULT_N)                                                           \
    [[maybe_unused]] static const bool RILL_BENCH_CAT(rill_bench_registered_, NAME) =       \
        ::rill_bench::register_bench({#NAME, (DEFAULT_N), &NAME})
