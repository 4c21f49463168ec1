// The inline fast paths of the frame allocator (frame_alloc.cpp), for the runtime's own
// hot paths (spawning and freeing task cells). Private to src/: plain C++ that is never
// inlined into a coroutine body, so the thread-local address cannot be cached across a
// suspension (DESIGN §2). Everything else calls frame_allocate / frame_deallocate.
#pragma once

#include <cstddef>

#include "rill/detail/frame_alloc.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RILL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RILL_ASAN 1
#endif
#ifdef RILL_ASAN
#include <sanitizer/asan_interface.h>
#define RILL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define RILL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define RILL_POISON(p, n) ((void)(p), (void)(n))
#define RILL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

// Hidden: these are librill's own; a process holding two copies of rill (two shared
// objects that each link it) must not have one copy's references bind to the other's.
namespace rill::detail {
namespace __attribute__((visibility("hidden"))) frames {

inline constexpr std::size_t granule = 16;
inline constexpr std::size_t class_count = max_small_size / granule;
inline constexpr std::size_t spill_threshold = 4096;

struct free_block {
    free_block* next;
};

// A singly linked batch of blocks of one class.
struct batch {
    free_block* head = nullptr;
    free_block* tail = nullptr;
    std::size_t count = 0;
};

// This thread's lists (see frame_alloc.cpp for their lifecycle: unarmed, armed, gone).
struct thread_cache {
    batch lists[class_count];
    char* chunk_cur = nullptr;
    char* chunk_end = nullptr;
    bool armed = false;
    bool gone = false;
    // Fusing a spawned root frame with its cell (spawn_fused): armed for the next small
    // frame_allocate; the block that allocation took and its class; and the fused frame
    // whose operator delete must not free (its block goes with the cell: skip_).
    bool fuse_armed = false;
    unsigned fuse_cls = 0;
    void* fuse_block = nullptr;
    void* fuse_skip = nullptr;

    void* carve(std::size_t cls);
    bool refill(std::size_t cls);
    void spill(std::size_t cls);

    constexpr void disarm() noexcept {
        for (batch& b : lists) b = batch{nullptr, nullptr, spill_threshold};
        armed = false;
    }
};

extern constinit thread_local thread_cache t_cache;

constexpr std::size_t class_of(std::size_t size) { return (size + granule - 1) / granule - 1; }

// The slow paths: no cache yet, cache gone, list empty (allocate) or too long (free).
void* allocate_slow(std::size_t size, std::size_t cls);
void deallocate_slow(void* p, std::size_t cls) noexcept;

/// frame_allocate for a size known to be a small one (1..max_small_size).
inline void* allocate_small(std::size_t size) {
    const std::size_t cls = class_of(size);
    batch& b = t_cache.lists[cls];
    if (free_block* blk = b.head) [[likely]] {
        RILL_UNPOISON(blk, size);
        b.head = blk->next;
        --b.count;
        return blk;
    }
    return allocate_slow(size, cls);
}

/// frame_deallocate for a size known to be a small one.
inline void deallocate_small(void* p, std::size_t size) noexcept {
    const std::size_t cls = class_of(size);
    batch& b = t_cache.lists[cls];
    if (b.count >= spill_threshold) [[unlikely]] {
        deallocate_slow(p, cls);  // spills, or an unarmed or gone cache
        return;
    }
    auto* blk = static_cast<free_block*>(p);
    blk->next = b.head;
    RILL_POISON(p, (cls + 1) * granule);
    b.head = blk;
    if (b.count++ == 0) b.tail = blk;
}

}  // namespace frames
}  // namespace rill::detail
