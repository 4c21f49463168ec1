// The set of every live task of a runtime, so that shutdown can cancel them all.
//
// Sharded by task id; each shard is a mutex and an intrusive doubly linked list through
// header::owned_prev_/owned_next_. A task not in a list has owned_next_ == itself.
// The list holds one ref of each task it contains. After close(), insert fails and the
// caller cancels the new task at once, so nothing outlives the runtime.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

#include "rill/detail/task_header.hpp"

namespace rill::detail {

class owned_tasks {
public:
    explicit owned_tasks(std::size_t shards);

    /// Adds `h`, taking one ref for the list. False when closed: `h` was not added.
    bool insert(header* h) noexcept;
    /// Removes `h` if present and drops the list's ref.
    void remove(header* h) noexcept;
    /// Closes the set and cancels every task in it (their frames are destroyed here).
    void close_and_shutdown_all() noexcept;
    bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    struct alignas(64) shard {
        std::mutex mutex;
        header* head = nullptr;
    };
    shard& shard_of(header* h) noexcept { return shards_[h->id() & mask_]; }

    std::unique_ptr<shard[]> shards_;
    std::size_t mask_;
    std::atomic<bool> closed_{false};
    std::atomic<std::size_t> count_{0};
};

}  // namespace rill::detail
