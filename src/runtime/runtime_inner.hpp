// What a runtime is made of, shared by runtime, handle and the schedulers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "rill/detail/block_on.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/runtime/builder.hpp"

namespace rill::detail {

class blocking_pool;
class time_driver;
class io_driver;

/// A scheduler flavor's cold-path operations (hot paths go through scheduler_base).
class scheduler_impl {
public:
    virtual ~scheduler_impl() = default;
    virtual scheduler_base* base() noexcept = 0;
    /// Runs (current_thread) or waits (multi_thread) until `sig` is done.
    virtual void block_until(block_signal& sig) = 0;
    /// A timer earlier than every other was added: the parked worker watching the
    /// clock must recompute its timeout.
    virtual void timer_added(std::uint64_t deadline_ms) noexcept = 0;
    /// Stops the workers and cancels every task; idempotent.
    virtual void shutdown() noexcept = 0;
    virtual std::size_t num_workers() const noexcept = 0;
    virtual std::size_t num_alive_tasks() const noexcept = 0;
};

struct runtime_inner {
    std::atomic<std::size_t> refs{1};
    runtime_config cfg;
    std::unique_ptr<blocking_pool> pool;
    std::unique_ptr<time_driver> time;  // null when time is not enabled
    std::unique_ptr<io_driver> io;      // null when I/O is not enabled
    std::unique_ptr<scheduler_impl> sched;
    std::atomic<bool> shut_down{false};

    runtime_inner();
    ~runtime_inner();

    void report(header* h, std::exception_ptr e) noexcept;
};

void runtime_inner_ref(runtime_inner* rt) noexcept;
inline void runtime_timer_added(runtime_inner& rt, std::uint64_t deadline_ms) noexcept {
    rt.sched->timer_added(deadline_ms);
}
void runtime_inner_unref(runtime_inner* rt) noexcept;

std::unique_ptr<scheduler_impl> make_multi_thread(runtime_inner& rt);
std::unique_ptr<scheduler_impl> make_current_thread(runtime_inner& rt);

/// Names the calling thread per cfg (thread_name_fn, else thread_name), and runs hooks.
void thread_started(const runtime_config& cfg);
void thread_stopping(const runtime_config& cfg);

}  // namespace rill::detail
