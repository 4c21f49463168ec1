// The per-thread runtime context: which scheduler this thread belongs to, the task it is
// polling, and the cooperative budget. Private to src/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rill/detail/context.hpp"
#include "rill/detail/task_header.hpp"

namespace rill::detail {

struct thread_context {
    scheduler_base* scheduler = nullptr;  // the runtime this thread runs tasks for
    void* worker = nullptr;               // scheduler-specific worker state
    std::size_t worker_index = 0;         // shard hint for per-worker structures
    runtime_inner* runtime = nullptr;     // for handle::current() and spawn_blocking
    header* current = nullptr;            // the task being polled
    std::uint32_t budget = coop_budget;   // ready operations left in this poll
    bool blocking_thread = false;         // a spawn_blocking thread
};

thread_context& tls() noexcept;

/// Called around each poll of a task.
void ctx_begin_poll(header* h) noexcept;
void ctx_end_poll() noexcept;

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
