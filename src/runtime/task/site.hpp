// The per-thread cache in front of the interned task sites (site.cpp), inline for the
// spawn paths of src/. Plain C++ never inlined into a coroutine body (DESIGN §2: a
// thread-local address must not be cached across a suspension).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "rill/detail/task_header.hpp"

namespace rill::detail {
namespace __attribute__((visibility("hidden"))) sites {

static_assert(sizeof(std::source_location) == sizeof(std::uintptr_t),
              "a source_location is one pointer to static data (libstdc++ and libc++)");

inline std::uintptr_t loc_key(std::source_location loc) noexcept { return std::bit_cast<std::uintptr_t>(loc); }

// An entry is keyed by the scheduler's epoch, not its address: epochs are unique per
// scheduler ever made (0: no scheduler), so an entry of a freed scheduler never matches a
// new one at the same address. loc 0 (an empty entry) matches no spawn location.
struct cache_entry {
    std::uintptr_t loc = 0;
    const task_vtable* vt = nullptr;
    std::uint64_t epoch = 0;
    const task_site* site = nullptr;
};

inline std::uint64_t epoch_of(const scheduler_base* s) noexcept { return s != nullptr ? s->epoch_ : 0; }
inline constexpr std::size_t cache_size = 256;
extern constinit thread_local cache_entry t_cache[cache_size];

// Spawn locations are distinct static objects at least 16 bytes apart, task vtables too.
inline std::size_t slot_of(const task_vtable* vt, std::uintptr_t loc) noexcept {
    return static_cast<std::size_t>((loc >> 4) ^ (reinterpret_cast<std::uintptr_t>(vt) >> 3)) & (cache_size - 1);
}

const task_site* intern_slow(scheduler_base* s, const task_vtable* vt, std::source_location loc);

inline const task_site* lookup(scheduler_base* s, const task_vtable* vt, std::source_location loc) {
    const std::uintptr_t lk = loc_key(loc);
    const cache_entry& e = t_cache[slot_of(vt, lk)];
    if (e.loc == lk && e.vt == vt && e.epoch == epoch_of(s)) [[likely]] return e.site;
    return intern_slow(s, vt, loc);
}

}  // namespace sites
}  // namespace rill::detail
