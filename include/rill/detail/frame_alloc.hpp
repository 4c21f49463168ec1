// Recycling allocator for coroutine frames and task cells.
//
// Every rill coroutine frame and spawned-task cell is allocated here through the
// promise's operator new. Blocks of up to max_small_size bytes come from per-thread
// free lists (one per 16-byte size class); a block freed on another thread joins that
// thread's list. Once warm, spawning and completing tasks never calls malloc.
//
// The functions are out of line on purpose: they read thread-locals, and an inlined
// thread-local access inside a coroutine body may be cached across a suspension that
// resumes on another worker (DESIGN §2).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill::detail {

/// Largest size served from the free lists; larger blocks go to ::operator new.
inline constexpr std::size_t max_small_size = 1024;

/// Allocates `size` bytes for a frame or cell. Never returns null (throws std::bad_alloc).
[[nodiscard]] void* frame_allocate(std::size_t size);

/// Frees a block obtained from frame_allocate with the same `size`.
void frame_deallocate(void* p, std::size_t size) noexcept;

/// Counters for tests and metrics (this thread's view is not needed: global totals).
struct frame_alloc_stats {
    std::uint64_t fresh_blocks;   // blocks carved from new chunks (not recycled)
    std::uint64_t large_allocs;   // allocations above max_small_size
};
frame_alloc_stats frame_alloc_statistics() noexcept;

/// Bytes reserved in front of a fused frame: the task header (checked in cells.hpp).
inline constexpr std::size_t fused_prefix = 64;

/// Mixin giving a type rill's recycling operator new/delete.
struct frame_allocated {
    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
};

}  // namespace rill::detail
