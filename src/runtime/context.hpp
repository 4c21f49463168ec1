// The per-thread runtime context: which scheduler this thread belongs to, the task it is
// polling, and the cooperative budget. Private to src/.
#pragma once

#include <cstddef>
#include <atomic>
#include <cstdint>

#include "rill/detail/context.hpp"
#include "rill/detail/task_header.hpp"

namespace rill::detail {

struct uring_ring;

struct thread_context {
    scheduler_base* scheduler = nullptr;  // the runtime this thread runs tasks for
    void* worker = nullptr;               // scheduler-specific worker state
    std::size_t worker_index = 0;         // shard hint for per-worker structures
    runtime_inner* runtime = nullptr;     // for handle::current() and spawn_blocking
    header* current = nullptr;            // the task being polled
    std::uint32_t budget = coop_budget;   // ready operations left in this poll
    bool yielded = false;                 // `current` yielded: it goes back to the queue
    bool blocking_thread = false;         // a spawn_blocking thread
    // Runtime refs this thread took in advance (a lease on `runtime`), so that spawning
    // and freeing tasks on a runtime thread does not touch the shared refcount each time.
    std::uint32_t runtime_lease = 0;
    // The LIFO slot of this thread's worker (multi_thread only; null elsewhere). A task
    // found there is reachable by this thread alone (shutdown touches the slot only after
    // the workers have stopped): see join_handle_drop.
    header* const* lifo_slot = nullptr;
    // This worker's io_uring ring (multi_thread with io_uring on; null elsewhere).
    uring_ring* ring = nullptr;
    // This worker's count of alive tasks (multi_thread only; null elsewhere): a task that
    // never waited and completes here is released by decrementing it, without calling
    // the scheduler's release_fn (harness.cpp, complete()).
    std::atomic<std::int64_t>* alive = nullptr;
};

// Inline inside the library (plain C++ on the scheduler's hot path, never a coroutine
// body, so the thread-local address cannot be cached across a suspension). Public
// headers go through the out-of-line accessors of rill/detail/context.hpp instead.
// Hidden, like the allocator's lists: each copy of rill in a process has its own.
extern constinit thread_local thread_context t_ctx __attribute__((visibility("hidden")));
inline thread_context& tls() noexcept { return t_ctx; }

// Runtime leases: a thread that runs this runtime's tasks (a worker, the thread in
// block_on) takes runtime refs in batches and keeps them in t_ctx.runtime_lease, so that
// spawning and freeing tasks there does not touch the shared refcount each time. Its
// context_guard hands back what is left when it stops.
inline constexpr std::uint32_t lease_batch = 64;
void lease_runtime_ref_slow(runtime_inner* rt) noexcept;
void lease_runtime_unref_slow(runtime_inner* rt) noexcept;

/// Takes one runtime ref for a new task (from this thread's lease when it can).
inline void lease_runtime_ref(runtime_inner* rt) noexcept {
    if (t_ctx.runtime == rt && t_ctx.worker != nullptr && t_ctx.runtime_lease != 0) [[likely]] {
        --t_ctx.runtime_lease;
        return;
    }
    lease_runtime_ref_slow(rt);
}
/// Gives back one runtime ref of a freed task (into this thread's lease when it can).
inline void lease_runtime_unref(runtime_inner* rt) noexcept {
    if (t_ctx.runtime == rt && t_ctx.worker != nullptr && t_ctx.runtime_lease < 2 * lease_batch) [[likely]] {
        ++t_ctx.runtime_lease;
        return;
    }
    lease_runtime_unref_slow(rt);
}

/// Called around each poll of a task.
inline void ctx_begin_poll(header* h) noexcept {
    t_ctx.current = h;
    t_ctx.budget = coop_budget;
    t_ctx.yielded = false;
}
/// Ends the poll; true when the task yielded (yield_wake's fast path) and must be
/// queued again.
inline bool ctx_end_poll() noexcept {
    t_ctx.current = nullptr;
    return t_ctx.yielded;
}

/// Sets this thread's context for the lifetime of the guard.
class context_guard {
public:
    context_guard(scheduler_base* s, void* worker, runtime_inner* rt) noexcept;
    ~context_guard();
    context_guard(const context_guard&) = delete;
    context_guard& operator=(const context_guard&) = delete;

private:
    thread_context saved_;
};

}  // namespace rill::detail
