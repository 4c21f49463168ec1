// The intrusive timer entry that lives inside every sleep awaitable.
//
// Owned by the sleep; linked into one slot of one wheel shard while registered. All
// fields but `deadline_ms_` (set before registration) are guarded by the shard's mutex;
// `state_` is atomic so the owner can check it without the lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "rill/detail/task_header.hpp"

namespace rill::detail {

struct timer_entry {
    timer_entry* prev_ = nullptr;
    timer_entry* next_ = nullptr;
    std::uint64_t deadline_ms_ = 0;  // in the runtime clock's milliseconds
    wake_node* waker_ = nullptr;     // counted; consumed when fired or unregistered
    std::uint32_t shard_ = 0;        // which shard holds it (valid while registered)
    std::uint8_t level_ = 0;         // where in the wheel (valid while registered)
    std::uint8_t slot_ = 0;
    enum : std::uint8_t { idle, registered, fired };
    std::atomic<std::uint8_t> state_{idle};  // written under the shard mutex
    void* driver_ = nullptr;                  // the time driver it is registered with
};

}  // namespace rill::detail
