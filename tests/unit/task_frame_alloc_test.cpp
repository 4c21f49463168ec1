// Steady-state spawning allocates nothing: coroutine frames and task cells come from rill's
// recycling allocator (DESIGN §4, §7). This binary replaces the global operator new and
// counts every call made while a measured section is open, on any thread (under TSan,
// whose runtime owns operator new, it counts every heap allocation through the
// sanitizer's allocation hook instead).
#include <gtest/gtest.h>

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "rill/detail/frame_alloc.hpp"
#include "rill/rill.hpp"
#include "support/rt.hpp"  // RILL_TEST_TSAN

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_news{0};
std::atomic<bool> g_trace{true};

#if !defined(RILL_TEST_TSAN)
// Where a counted allocation came from, printed for the first few of them (to stderr,
// without allocating): the addresses resolve with addr2line -e <binary>.
void note_allocation() {
    const std::uint64_t k = g_news.fetch_add(1, std::memory_order_relaxed);
    if (k >= 3 || !g_trace.load(std::memory_order_relaxed)) return;
    void* frames[24];
    const int n = backtrace(frames, 24);
    static const char header[] = "counted operator new, from:\n";
    (void)!write(2, header, sizeof header - 1);
    backtrace_symbols_fd(frames, n, 2);
}
#endif

#if defined(RILL_TEST_TSAN)
// TSan's runtime owns operator new (it cannot be replaced in a TSan binary): count
// through its allocation hook instead. It sees every heap allocation, operator new's
// included, which is a superset of what the replacement counts in the other builds.
}  // namespace

extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*, std::size_t),
                                                          void (*)(const volatile void*));

namespace {
std::atomic<std::size_t> g_sizes[3];
void on_malloc(const volatile void*, std::size_t size) {
    if (!g_counting.load(std::memory_order_relaxed)) return;
    const std::uint64_t k = g_news.fetch_add(1, std::memory_order_relaxed);
    if (k < 3) g_sizes[k].store(size, std::memory_order_relaxed);
}
void on_free(const volatile void*) {}
[[maybe_unused]] const int g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free);
}  // namespace
#else
void* counted_alloc(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) note_allocation();
    if (n == 0) n = 1;
    if (void* p = std::malloc(n)) return p;
    throw std::bad_alloc();
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
    if (g_counting.load(std::memory_order_relaxed)) note_allocation();
    const std::size_t a = static_cast<std::size_t>(al);
    const std::size_t size = (n + a - 1) / a * a;
    if (void* p = std::aligned_alloc(a, size == 0 ? a : size)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

namespace {

/// What the counted allocations were, where the build can tell (TSan: their sizes).
std::string allocation_sizes() {
#if defined(RILL_TEST_TSAN)
    std::string out = " sizes:";
    for (auto& s : g_sizes) out += " " + std::to_string(s.load());
    return out;
#else
    return " (backtraces on stderr)";
#endif
}

/// Counts global operator new calls made (by any thread) while it is alive.
class measured {
public:
    measured() {
        g_news.store(0);
        g_counting.store(true);
    }
    ~measured() { stop(); }
    std::uint64_t stop() {
        g_counting.store(false);
        return g_news.load();
    }
};

TEST(frame_alloc, the_counter_sees_allocations) {
    g_trace = false;
    measured m;
    void* p = ::operator new(24);
    asm volatile("" : : "r"(p) : "memory");  // keep the call
    ::operator delete(p);
    EXPECT_EQ(m.stop(), 1u);
    g_trace = true;
}

// Frames and cells of different tasks run on different workers: a block of a cache line
// or more must not share a line with any other block, or the two workers' writes make the
// line bounce on every resume. Fresh blocks of mixed sizes, carved on a new thread (its own
// chunk), checked pairwise.
TEST(frame_alloc, blocks_of_a_line_or_more_share_no_line_with_another_block) {
    struct block {
        std::uintptr_t p;
        std::size_t size;
    };
    std::vector<block> blocks;
    std::thread([&] {
        const std::size_t sizes[] = {16, 72, 48, 64, 112, 24, 200, 96, 32, 144, 80, 1000, 40, 128};
        for (int round = 0; round < 20; ++round)
            for (std::size_t sz : sizes) blocks.push_back({reinterpret_cast<std::uintptr_t>(rill::detail::frame_allocate(sz)), sz});
        for (const block& b : blocks) rill::detail::frame_deallocate(reinterpret_cast<void*>(b.p), b.size);
    }).join();
    constexpr std::uintptr_t line = 64;
    for (const block& a : blocks) {
        if (a.size < line) continue;
        EXPECT_EQ(a.p % line, 0u) << "a block of " << a.size << " bytes starts inside a line";
        const std::uintptr_t first = a.p / line, last = (a.p + a.size - 1) / line;
        for (const block& b : blocks) {
            if (&a == &b) continue;
            const std::uintptr_t bfirst = b.p / line, blast = (b.p + b.size - 1) / line;
            EXPECT_TRUE(blast < first || bfirst > last)
                << "blocks of " << a.size << " and " << b.size << " bytes share a line";
        }
    }
}

rill::task<int> leaf(int v) { co_return v; }

rill::task<int> leaf_yielding(int v) {
    co_await rill::yield_now();
    co_return v;
}

struct result {
    std::uint64_t news = 0;
    std::uint64_t fresh_blocks = 0;
    long sum = 0;
};

// yielding: the tasks suspend once. fused: spawned as spawn(rill::call(...)), cell and
// frame in one block, freed whole with the cell (so recycled like any other block: no
// size class is starved by blocks freed in parts).
enum class spawn_mode { plain, yielding, fused };

rill::task<long> spawn_join_loop(int n, spawn_mode mode) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        auto h = mode == spawn_mode::plain    ? rill::spawn(leaf(i))
                 : mode == spawn_mode::fused ? rill::spawn(rill::call(leaf_yielding, i))
                                              : rill::spawn(leaf_yielding(i));
        sum += co_await h;
    }
    co_return sum;
}

rill::task<result> measure_spawn_join(int n, spawn_mode mode) {
    co_await spawn_join_loop(100, mode);  // warm-up round: fills the free lists
    result r;
    const auto before = rill::detail::frame_alloc_statistics();
    {
        measured m;
        r.sum = co_await spawn_join_loop(n, mode);
        r.news = m.stop();
    }
    r.fresh_blocks = rill::detail::frame_alloc_statistics().fresh_blocks - before.fresh_blocks;
    co_return r;
}

/// Runs on a worker until `expected` of these run at once (so each is on its own worker),
/// spawning and joining there: every worker's frame cache and thread-locals are warm.
rill::task<void> warm_this_worker(std::atomic<int>* arrived, int expected) {
    arrived->fetch_add(1);
    while (arrived->load() < expected) std::this_thread::yield();
    for (int i = 0; i < 100; ++i) {
        auto h = rill::spawn(leaf_yielding(i));
        co_await h;
    }
}

rill::task<void> join_all(std::vector<rill::join_handle<void>> hs) {
    for (auto& h : hs) co_await h;
}

class frame_alloc_both : public rill_test::both_flavors {
protected:
    /// A runtime whose every thread has spawned, run and freed tasks already: the
    /// first-use costs of a thread (its thread-local registrations) are not steady state.
    rill::runtime warm_rt() const {
        auto rt = this->rt();
        const int workers = static_cast<int>(rt.metrics().num_workers);
        std::atomic<int> arrived{0};
        std::vector<rill::join_handle<void>> hs;
        for (int i = 0; i < workers; ++i) hs.push_back(rt.spawn(warm_this_worker(&arrived, workers)));
        rt.block_on(join_all(std::move(hs)));
        return rt;
    }
};

TEST_P(frame_alloc_both, warm_spawn_and_join_makes_no_global_allocation) {
    auto rt = warm_rt();
    constexpr int n = 10'000;
    result r = rt.block_on(measure_spawn_join(n, spawn_mode::plain));
    EXPECT_EQ(r.sum, static_cast<long>(n) * (n - 1) / 2);
    EXPECT_EQ(r.news, 0u) << "operator new calls while spawning and joining " << n << " tasks" << allocation_sizes();
    EXPECT_EQ(r.fresh_blocks, 0u) << "frames and cells are recycled";
}

TEST_P(frame_alloc_both, warm_spawn_of_suspending_tasks_makes_no_global_allocation) {
    auto rt = warm_rt();
    constexpr int n = 10'000;
    result r = rt.block_on(measure_spawn_join(n, spawn_mode::yielding));
    EXPECT_EQ(r.sum, static_cast<long>(n) * (n - 1) / 2);
    EXPECT_EQ(r.news, 0u) << allocation_sizes();
}

TEST_P(frame_alloc_both, warm_spawn_call_and_join_makes_no_global_allocation) {
    auto rt = warm_rt();
    constexpr int n = 10'000;
    result r = rt.block_on(measure_spawn_join(n, spawn_mode::fused));
    EXPECT_EQ(r.sum, static_cast<long>(n) * (n - 1) / 2);
    EXPECT_EQ(r.news, 0u) << allocation_sizes();
    EXPECT_EQ(r.fresh_blocks, 0u) << "fused blocks are recycled";
}

rill::task<void> answer(rill::sync::oneshot::sender<int> tx, int v) {
    co_await rill::yield_now();
    (void)tx.send(v);
}

rill::task<long> oneshot_loop(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        auto [tx, rx] = rill::sync::oneshot::channel<int>();
        rill::spawn(answer(std::move(tx), i)).detach();
        sum += co_await std::move(rx);
    }
    co_return sum;
}

rill::task<result> measure_oneshot(int n) {
    co_await oneshot_loop(100);
    result r;
    measured m;
    r.sum = co_await oneshot_loop(n);
    r.news = m.stop();
    co_return r;
}

TEST_P(frame_alloc_both, warm_request_reply_over_oneshot_makes_no_global_allocation) {
    auto rt = warm_rt();
    constexpr int n = 10'000;
    result r = rt.block_on(measure_oneshot(n));
    EXPECT_EQ(r.sum, static_cast<long>(n) * (n - 1) / 2);
    EXPECT_EQ(r.news, 0u) << allocation_sizes();
}

RILL_BOTH_FLAVORS(frame_alloc_both);

TEST(frame_alloc, current_thread_batches_make_no_global_allocation) {
    // 64 tasks alive at once, over and over.
    auto rt = rill::builder::new_current_thread().build();
    auto body = []() -> rill::task<result> {
        std::vector<rill::join_handle<int>> hs;
        hs.reserve(64);
        auto round = [](std::vector<rill::join_handle<int>>* v) -> rill::task<long> {
            for (int i = 0; i < 64; ++i) v->push_back(rill::spawn(leaf_yielding(i)));
            long s = 0;
            for (auto& h : *v) s += co_await h;
            v->clear();
            co_return s;
        };
        co_await round(&hs);
        result r;
        measured m;
        for (int k = 0; k < 500; ++k) r.sum += co_await round(&hs);
        r.news = m.stop();
        co_return r;
    };
    result r = rt.block_on(body());
    EXPECT_EQ(r.sum, 500L * 63 * 64 / 2);
    EXPECT_EQ(r.news, 0u) << allocation_sizes();
}

}  // namespace
