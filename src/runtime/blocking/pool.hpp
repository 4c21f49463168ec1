// The blocking pool behind spawn_blocking.
//
// A FIFO of blocking cells under one mutex, served by up to max_blocking_threads
// threads that are started on demand and exit after thread_keep_alive idle. Each
// thread holds a ref of the runtime, so a thread left running past a shutdown timeout
// never touches freed memory. Shutdown cancels what has not started and waits (bounded
// by the timeout, if any) for what has.
//
// Design block (every field below is guarded by mutex_):
//   threads_     threads in the pool: running a job, or idle in wait_for_work
//   idle_        threads inside wait_for_work
//   num_notify_  signals sent by push and not yet consumed (num_notify_ <= idle_ until
//                shutdown)
// Invariant: every queued job will be looked at by some thread, because every thread
// in the pool is running a job (it takes the next one when done), or is idle and
// signalled, or is idle while nothing is queued.
// Push protocol:
//   1. queue the job;
//   2. idle_ > num_notify_ (an idle thread nobody signalled): ++num_notify_, notify_one;
//   3. else, below max_blocking_threads: start a thread; if that fails with threads_ == 0,
//      nobody would ever run the queue: cancel it (the handles get join_error);
//   4. else leave it: a running or signalled thread takes it.
// An idle thread that wakes (signalled, spuriously, or at the keep-alive deadline)
// consumes one pending signal, whichever thread it was sent to, and looks at the queue
// again, even when a busy thread has taken the job meanwhile. Consuming only when a job
// is found would leave a signal pending for good: the pool would count that thread as
// signalled and never wake it again (jobs then waited for its keep-alive). A thread
// leaves at the deadline only when no signal is pending and the queue is empty.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>

#include "rill/detail/task_header.hpp"

namespace rill::detail {

struct runtime_inner;

class blocking_pool : public scheduler_base {
public:
    explicit blocking_pool(runtime_inner& rt);
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;

    /// Cancels queued work and waits for running work (at most `timeout` if given).
    /// Returns false when the timeout expired with threads still running.
    bool shutdown(std::optional<std::chrono::nanoseconds> timeout) noexcept;

    std::size_t num_threads() const;
    std::size_t num_idle_threads() const;
    std::size_t queue_depth() const;
    /// True while blocking work is queued or running.
    bool busy() const;

private:
    static void schedule_thunk(scheduler_base* s, header* h, bool yield);
    static void spawn_thunk(scheduler_base* s, header* h);
    static void release_thunk(scheduler_base*, header*) {}
    static void report_thunk(scheduler_base* s, header* h, std::exception_ptr e);

    void push(header* h) noexcept;
    void thread_main() noexcept;
    /// Waits idle (the caller holds `lock`). False: keep-alive passed with nothing to do.
    bool wait_for_work(std::unique_lock<std::mutex>& lock);

    runtime_inner& rt_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::condition_variable done_cv_;
    header* head_ = nullptr;
    header* tail_ = nullptr;
    std::size_t queued_ = 0;
    std::size_t threads_ = 0;
    std::size_t exiting_ = 0;  // threads that left the pool but are still running on_thread_stop
    std::size_t idle_ = 0;
    std::size_t num_notify_ = 0;
    bool shutdown_ = false;
};

}  // namespace rill::detail
