// Per-thread size-class free lists for coroutine frames and task cells.
//
// Design:
// - 64 classes of 16 bytes (16..1024). A thread pops from its own list; when the list is
//   empty it takes a batch from the global depot, else carves a block from its current
//   64 KiB chunk (mapped directly: no allocator header). Chunks are never returned to the
//   OS (they are reused forever). A block of 64 bytes or more (a task cell, a frame) is
//   carved on cache lines of its own (see carve); smaller blocks may share a line.
// - A free pushes onto the freeing thread's list. Tasks migrate between workers, so a
//   list can grow on one thread while another allocates: when a list exceeds
//   `spill_threshold` blocks, half of it moves to the global depot, where any thread can
//   take it back. On thread exit the whole cache goes to the depot.
// - Under AddressSanitizer, a free block is poisoned until it is handed out again, so a
//   use after free inside rill is still reported.
#include "rill/detail/frame_alloc.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <utility>

#include "runtime/task/frame_alloc_fast.hpp"

#ifdef RILL_ASAN
#include <sanitizer/lsan_interface.h>
#endif

namespace rill::detail {
namespace __attribute__((visibility("hidden"))) frames {

// This thread's lists. A trivially destructible constinit thread-local, so the fast
// paths (frame_alloc_fast.hpp) address it directly (no init guard, no pointer to
// chase). Its lifecycle:
//   unarmed  (initial) every count reads spill_threshold and every head is null, so
//            both fast paths fall to the slow ones, which arm it (below);
//   armed    counts are real; a cache_owner thread-local with a destructor exists;
//   gone     the owner's destructor ran (thread exit): lists spilled and the lists
//            unarmed again, with `gone` set, so the slow paths use the depot directly.
constinit thread_local thread_cache t_cache = [] {
    thread_cache c{};
    c.disarm();
    return c;
}();

namespace {

constexpr std::size_t chunk_size = 64 * 1024;
constexpr std::size_t cache_line = 64;  // chunks are page-aligned, so lines are too

struct depot_t {
    std::mutex mutex;
    batch lists[class_count];
    std::atomic<std::uint64_t> fresh{0};
    std::atomic<std::uint64_t> large{0};
};

depot_t& depot() {
    static depot_t* d = new depot_t;  // never destroyed: threads may free after main ends
    return *d;
}

}  // namespace

void* thread_cache::carve(std::size_t cls) {
    std::size_t bytes = (cls + 1) * granule;
    if (bytes >= cache_line) {
        // A block of a line or more starts on a line and owns its lines: neighbouring
        // blocks are usually frames and cells of different tasks, which run on different
        // workers, and a line they shared would bounce between the two on every resume
        // (yield_many ran at half speed with two workers for it). The block keeps its
        // class; only the carving skips the rest of its last line.
        chunk_cur = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(chunk_cur) + cache_line - 1) &
                                            ~std::uintptr_t{cache_line - 1});
        bytes = (bytes + cache_line - 1) & ~(cache_line - 1);
    }
    if (static_cast<std::size_t>(chunk_end - chunk_cur) < bytes) {
        // Chunks are mapped directly: no allocator header in front of each, so a chunk
        // is exactly chunk_size / block-size blocks (bytes per task is a benchmark
        // target). Leak checkers do not scan mappings on their own: register them.
        void* m = ::mmap(nullptr, chunk_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::bad_alloc();
        char* chunk = static_cast<char*>(m);
#ifdef RILL_ASAN
        __lsan_register_root_region(chunk, chunk_size);
#endif
        chunk_cur = chunk;
        chunk_end = chunk + chunk_size;
        RILL_POISON(chunk_cur, chunk_size);
    }
    void* p = chunk_cur;
    chunk_cur += bytes;
    depot().fresh.fetch_add(1, std::memory_order_relaxed);
    return p;
}

bool thread_cache::refill(std::size_t cls) {
    auto& d = depot();
    std::lock_guard lock(d.mutex);
    batch& src = d.lists[cls];
    if (src.count == 0) return false;
    // Take everything: the depot only holds what other threads spilled.
    lists[cls] = src;
    src = batch{};
    return true;
}

// Moves the whole list to the depot in O(1) (head and tail are known): a list that
// grew on this thread because tasks allocated elsewhere finish here becomes
// available to the allocating thread in one locked splice.
void thread_cache::spill(std::size_t cls) {
    batch& b = lists[cls];
    auto& d = depot();
    std::lock_guard lock(d.mutex);
    RILL_UNPOISON(b.tail, sizeof(free_block));
    b.tail->next = d.lists[cls].head;
    RILL_POISON(b.tail, sizeof(free_block));
    if (d.lists[cls].head == nullptr) d.lists[cls].tail = b.tail;
    d.lists[cls].head = b.head;
    d.lists[cls].count += b.count;
    b = batch{};
}

namespace {

// Hands the lists to the depot when the thread exits.
struct cache_owner {
    ~cache_owner() {
        for (std::size_t c = 0; c < class_count; ++c)
            if (t_cache.lists[c].count != 0) t_cache.spill(c);
        // The unused tail of the current chunk is abandoned (bounded: one chunk a thread).
        t_cache.disarm();
        t_cache.gone = true;
    }
};

// The first slow-path visit on a thread: create the owner and make the counts real.
void arm_cache() {
    thread_local cache_owner owner;
    (void)owner;
    for (batch& b : t_cache.lists) b.count = 0;
    t_cache.armed = true;
}

// After this thread's cache is gone (other thread_local destructors running at thread
// exit), blocks go straight to and from the depot.
void* depot_allocate(std::size_t cls) {
    auto& d = depot();
    {
        std::lock_guard lock(d.mutex);
        batch& b = d.lists[cls];
        if (b.count > 0) {
            free_block* blk = b.head;
            RILL_UNPOISON(blk, (cls + 1) * granule);
            b.head = blk->next;
            if (--b.count == 0) b.tail = nullptr;
            return blk;
        }
    }
    d.fresh.fetch_add(1, std::memory_order_relaxed);
    return ::operator new((cls + 1) * granule);
}

void depot_free(void* p, std::size_t cls) {
    auto& d = depot();
    std::lock_guard lock(d.mutex);
    auto* blk = static_cast<free_block*>(p);
    blk->next = d.lists[cls].head;
    RILL_POISON(p, (cls + 1) * granule);
    if (d.lists[cls].head == nullptr) d.lists[cls].tail = blk;
    d.lists[cls].head = blk;
    ++d.lists[cls].count;
}

}  // namespace

// The slow paths, out of the way of the inlined fast ones: no cache yet (first use on
// this thread), cache gone (thread exit), list empty (refill from the depot or carve).
[[gnu::noinline]] void* allocate_slow(std::size_t size, std::size_t cls) {
    thread_cache& tc = t_cache;
    if (tc.gone) return depot_allocate(cls);
    if (!tc.armed) arm_cache();
    batch& b = tc.lists[cls];
    if (b.count == 0 && !tc.refill(cls)) {
        void* p = tc.carve(cls);
        RILL_UNPOISON(p, size);
        return p;
    }
    free_block* blk = b.head;
    RILL_UNPOISON(blk, size);
    b.head = blk->next;
    --b.count;  // tail is stale once the list is empty; the next push resets it
    return blk;
}

[[gnu::noinline]] void deallocate_slow(void* p, std::size_t cls) noexcept {
    thread_cache& tc = t_cache;
    if (tc.gone) {
        depot_free(p, cls);
        return;
    }
    if (!tc.armed) arm_cache();
    batch& b = tc.lists[cls];
    auto* blk = static_cast<free_block*>(p);
    blk->next = b.head;
    RILL_POISON(p, (cls + 1) * granule);
    b.head = blk;
    if (b.count++ == 0) b.tail = blk;
    if (b.count > spill_threshold) tc.spill(cls);
}

}  // namespace frames

namespace frames {
namespace {
// An armed spawn_fused's allocation: the first small frame takes a block with room for
// the cell in front of it.
[[gnu::noinline]] void* allocate_fused(std::size_t size) {
    thread_cache& tc = t_cache;
    tc.fuse_armed = false;
    if (size + fused_prefix > max_small_size) return allocate_small(size);
    const std::size_t total = size + fused_prefix;
    char* block = static_cast<char*>(allocate_small(total));
    tc.fuse_block = block;
    tc.fuse_cls = static_cast<unsigned>(class_of(total));
    return block + fused_prefix;
}
}  // namespace
}  // namespace frames

void* frame_allocate(std::size_t size) {
    if (size > max_small_size || size == 0) {
        frames::depot().large.fetch_add(1, std::memory_order_relaxed);
        return ::operator new(size);
    }
    if (frames::t_cache.fuse_armed) [[unlikely]] return frames::allocate_fused(size);
    return frames::allocate_small(size);
}

void frame_deallocate(void* p, std::size_t size) noexcept {
    if (p == nullptr) return;
    if (p == frames::t_cache.fuse_skip) [[unlikely]] {
        // A fused root frame: its block is freed with its cell.
        frames::t_cache.fuse_skip = nullptr;
        RILL_POISON(p, size);
        return;
    }
    if (size > max_small_size || size == 0) {
        ::operator delete(p);
        return;
    }
    frames::deallocate_small(p, size);
}

frame_alloc_stats frame_alloc_statistics() noexcept {
    auto& d = frames::depot();
    return {d.fresh.load(std::memory_order_relaxed), d.large.load(std::memory_order_relaxed)};
}

}  // namespace rill::detail
