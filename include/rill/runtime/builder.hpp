// rill::builder: configures and builds a runtime (Tokio's runtime::Builder).
//
//     auto rt = rill::builder::new_multi_thread()
//                   .worker_threads(4)
//                   .thread_name("my-worker")
//                   .enable_all()
//                   .build();
//
// new_multi_thread(): a work-stealing pool, one worker per CPU by default.
// new_current_thread(): every task runs on the thread that calls block_on.
// Both share a blocking pool for spawn_blocking (max_blocking_threads, default 512;
// idle blocking threads exit after thread_keep_alive, default 10 s).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <source_location>
#include <string>

namespace rill {

class runtime;

/// What the unhandled-exception hook is told about a failed detached task.
struct task_failure {
    std::uint64_t task_id;
    std::source_location spawned_at;
    std::exception_ptr exception;
};

enum class flavor { multi_thread, current_thread };

struct runtime_config {
    rill::flavor flavor = flavor::multi_thread;
    std::size_t worker_threads = 0;  // 0: number of CPUs this process may run on
    std::size_t max_blocking_threads = 512;
    std::chrono::milliseconds thread_keep_alive{10'000};
    std::string thread_name = "rill-worker";
    std::function<std::string()> thread_name_fn;
    std::function<void()> on_thread_start;
    std::function<void()> on_thread_stop;
    std::function<void(const task_failure&)> on_unhandled_exception;  // default: stderr
    std::uint32_t global_queue_interval = 61;
    std::uint32_t event_interval = 61;
    bool enable_io = false;
    int io_uring = -1;  // 1 on, 0 off, -1: the RILL_IO_URING environment variable decides
    bool enable_time = false;
    bool start_paused = false;
};

class builder {
public:
    static builder new_multi_thread() { return builder(flavor::multi_thread); }
    static builder new_current_thread() { return builder(flavor::current_thread); }

    /// Worker threads of the multi-thread runtime (ignored by current_thread). Must be > 0.
    builder& worker_threads(std::size_t n);
    builder& max_blocking_threads(std::size_t n);
    builder& thread_keep_alive(std::chrono::milliseconds d) {
        cfg_.thread_keep_alive = d;
        return *this;
    }
    builder& thread_name(std::string name) {
        cfg_.thread_name = std::move(name);
        return *this;
    }
    builder& thread_name_fn(std::function<std::string()> fn) {
        cfg_.thread_name_fn = std::move(fn);
        return *this;
    }
    builder& on_thread_start(std::function<void()> fn) {
        cfg_.on_thread_start = std::move(fn);
        return *this;
    }
    builder& on_thread_stop(std::function<void()> fn) {
        cfg_.on_thread_stop = std::move(fn);
        return *this;
    }
    /// Replaces the default report (stderr) of exceptions escaping tasks nobody joins.
    builder& on_unhandled_exception(std::function<void(const task_failure&)> fn) {
        cfg_.on_unhandled_exception = std::move(fn);
        return *this;
    }
    builder& global_queue_interval(std::uint32_t ticks);
    builder& event_interval(std::uint32_t ticks);
    builder& enable_io() {
        cfg_.enable_io = true;
        return *this;
    }
    builder& enable_time() {
        cfg_.enable_time = true;
        return *this;
    }
    builder& enable_all() { return enable_io().enable_time(); }
    /// Small socket reads and writes (under 1 KiB) go through a per-worker io_uring ring,
    /// submitted in batches, instead of readiness + recv/send (multi_thread with I/O
    /// enabled; where the kernel refuses io_uring, the epoll path serves them). Off by
    /// default; without a call, RILL_IO_URING=1 in the environment turns it on. See
    /// docs/design/io_uring.md. Known limit: a socket write abandoned (select, timeout,
    /// abort) after its send was submitted may still send its bytes, so the stream
    /// contract's "a cancelled write sent nothing" does not hold for it, and a cancelled
    /// buf_writer flush or framed send may later send those bytes twice.
    builder& enable_io_uring(bool on = true) {
        cfg_.io_uring = on ? 1 : 0;
        return *this;
    }
    /// Starts the clock paused (current_thread only; see rill::time).
    builder& start_paused(bool paused) {
        cfg_.start_paused = paused;
        return *this;
    }

    const runtime_config& config() const noexcept { return cfg_; }

    /// Builds the runtime; throws std::system_error if threads cannot be started.
    runtime build();

private:
    explicit builder(rill::flavor f) { cfg_.flavor = f; }
    runtime_config cfg_;
};

}  // namespace rill
