// Helpers shared by rill's tests: runtimes of both flavors, drop counters, bounded waits,
// a watchdog that turns a hang into a failure with a message, and replayable seeds.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rill/rill.hpp"

namespace rill_test {

// --- build flavour ---------------------------------------------------------------------

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RILL_TEST_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define RILL_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define RILL_TEST_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RILL_TEST_ASAN 1
#endif

#if defined(RILL_TEST_TSAN)
inline constexpr bool tsan = true;
#else
inline constexpr bool tsan = false;
#endif
#if defined(RILL_TEST_ASAN)
inline constexpr bool asan = true;
#else
inline constexpr bool asan = false;
#endif
#if defined(NDEBUG)
inline constexpr bool optimized = true;
#else
inline constexpr bool optimized = false;
#endif

/// Iteration counts for loops: full in optimized builds, smaller under sanitizers so that
/// each test stays within a few seconds on two cores.
inline constexpr std::size_t scaled(std::size_t n) {
    if (tsan) return n / 4 > 0 ? n / 4 : 1;
    if (asan || !optimized) return n / 4 > 0 ? n / 4 : 1;
    return n;
}

// --- runtimes --------------------------------------------------------------------------

inline rill::builder builder_for(rill::flavor f, std::size_t workers = 4) {
    if (f == rill::flavor::current_thread) return rill::builder::new_current_thread();
    auto b = rill::builder::new_multi_thread();
    b.worker_threads(workers);
    return b;
}

inline rill::runtime make_rt(rill::flavor f, std::size_t workers = 4) { return builder_for(f, workers).build(); }

inline std::string flavor_name(rill::flavor f) {
    return f == rill::flavor::multi_thread ? "multi_thread" : "current_thread";
}

/// Fixture base for tests that run under both schedulers.
class both_flavors : public ::testing::TestWithParam<rill::flavor> {
protected:
    rill::flavor flavor() const { return GetParam(); }
    rill::builder builder(std::size_t workers = 4) const { return builder_for(GetParam(), workers); }
    rill::runtime rt(std::size_t workers = 4) const { return make_rt(GetParam(), workers); }
};

struct flavor_printer {
    std::string operator()(const ::testing::TestParamInfo<rill::flavor>& info) const {
        return flavor_name(info.param);
    }
};

#define RILL_BOTH_FLAVORS(suite)                                                                  \
    INSTANTIATE_TEST_SUITE_P(, suite,                                                             \
                             ::testing::Values(rill::flavor::multi_thread, rill::flavor::current_thread), \
                             ::rill_test::flavor_printer{})

// --- objects that count their destruction ------------------------------------------------

/// Increments *counter when destroyed (moved-from objects count nothing).
class drop_counter {
public:
    explicit drop_counter(std::atomic<int>* c) noexcept : c_(c) {}
    drop_counter(drop_counter&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    drop_counter& operator=(drop_counter&&) = delete;
    ~drop_counter() {
        if (c_) c_->fetch_add(1, std::memory_order_acq_rel);
    }

private:
    std::atomic<int>* c_;
};

// --- exceptions nobody awaited ---------------------------------------------------------

/// What a runtime's unhandled-exception hook reported, in order (with_hook installs it).
struct failure_log {
    std::mutex mutex;
    std::vector<std::uint64_t> ids;
    std::vector<std::uint32_t> lines;
    std::vector<std::string> files;
    std::vector<std::string> whats;  // what() of each exception (std::exception only)
    std::atomic<int> count{0};
};

/// `b` with a hook that records every report in `log`.
inline rill::builder with_hook(rill::builder b, std::shared_ptr<failure_log> log) {
    b.on_unhandled_exception([log](const rill::task_failure& f) {
        std::lock_guard lock(log->mutex);
        log->ids.push_back(f.task_id);
        log->lines.push_back(f.spawned_at.line());
        log->files.push_back(f.spawned_at.file_name());
        try {
            std::rethrow_exception(f.exception);
        } catch (const std::exception& e) {
            log->whats.push_back(e.what());
        }
        log->count.fetch_add(1);
    });
    return b;
}

// --- waiting ---------------------------------------------------------------------------

/// Polls `pred` until it holds or `limit` passes. Not a timing assertion: the limit only
/// turns a hang into a failure.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

/// Aborts the process with `what` if it is still alive after `limit` (a hung test would
/// otherwise only be killed by ctest's timeout, without saying where or with which seed).
class watchdog {
public:
    explicit watchdog(std::string what, std::chrono::seconds limit = std::chrono::seconds(60))
        : what_(std::move(what)), thread_([this, limit] { run(limit); }) {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    void run(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' still running after %llds: hung\n", what_.c_str(),
                         static_cast<long long>(limit.count()));
            std::fflush(stderr);
            std::abort();
        }
    }
    std::string what_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

// --- seeds -----------------------------------------------------------------------------

/// The seed of a randomized test: $RILL_SEED if set, else a fresh one. Printed on failure.
inline std::uint64_t test_seed() {
    if (const char* s = std::getenv("RILL_SEED"); s != nullptr && *s != '\0')
        return std::strtoull(s, nullptr, 0);
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

/// Fixture base for stress tests: a seeded generator, the seed in the test's XML
/// properties and on stderr when the test fails, and a watchdog.
class seeded : public ::testing::Test {
protected:
    void SetUp() override {
        seed_ = test_seed();
        rng_.seed(seed_);
        RecordProperty("RILL_SEED", std::to_string(seed_));
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        name_ = std::string(info->test_suite_name()) + "." + info->name() + " RILL_SEED=" + std::to_string(seed_);
        dog_ = std::make_unique<watchdog>(name_, std::chrono::seconds(120));
    }
    void TearDown() override {
        dog_.reset();
        if (HasFailure()) std::fprintf(stderr, "replay: RILL_SEED=%llu\n", static_cast<unsigned long long>(seed_));
    }
    std::uint64_t seed() const { return seed_; }
    /// Uniform in [lo, hi].
    std::uint64_t rand(std::uint64_t lo, std::uint64_t hi) {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
    }
    bool coin() { return rand(0, 1) == 1; }

    std::uint64_t seed_ = 0;
    std::mt19937_64 rng_;
    std::string name_;
    std::unique_ptr<watchdog> dog_;
};

/// Busy-waits `n` iterations (to shift the interleaving of two threads).
inline void spin(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#else
        std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
    }
}

}  // namespace rill_test
