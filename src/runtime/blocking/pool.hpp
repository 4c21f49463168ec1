// The blocking pool behind spawn_blocking.
//
// A FIFO of blocking cells under one mutex, served by up to max_blocking_threads
// threads that are started on demand and exit after thread_keep_alive idle. Each
// thread holds a ref of the runtime, so a thread left running past a shutdown timeout
// never touches freed memory. Shutdown cancels what has not started and waits (bounded
// by the timeout, if any) for what has.
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
