// rill::runtime, runtime::handle, rill::block_on and rill::run.
//
//     int main() {
//         rill::runtime rt = rill::builder::new_multi_thread().enable_all().build();
//         int v = rt.block_on(async_main());
//     }
//
// or, in place of #[tokio::main]:
//
//     rill::task<int> async_main(int argc, char** argv);
//     int main(int argc, char** argv) { return rill::run(async_main(argc, argv)); }
//     // current_thread flavor:
//     int main(int argc, char** argv) {
//         return rill::run(rill::builder::new_current_thread(), async_main(argc, argv));
//     }
//
// runtime owns its workers, its blocking pool and every task spawned on it. Destroying
// it stops the workers and destroys every task that has not finished (their
// destructors run, on the destroying thread), then waits for running blocking work;
// shutdown_timeout(d) bounds that wait. block_on(task) runs the task to completion and
// returns its value or rethrows its exception: on a multi_thread runtime the task runs
// on a worker while the caller waits; on a current_thread runtime the caller's thread
// runs it and every other task (when several threads block_on it at once, one of them
// drives and the others wait for their task). block_on may not be called from a runtime
// thread; it throws rill::error if the runtime shuts down before the task finished.
// A runtime may be destroyed by one of its own tasks or blocking jobs: a current_thread
// runtime then shuts down in place (the dropping task finishes its poll first); a
// multi_thread runtime, or any runtime dropped from its blocking pool, shuts down on a
// helper thread, as shutdown_background() (waiting there would wait for this thread).
//
// handle: a cheap, copyable reference to a runtime, to spawn onto it from any thread
// (handle::current() inside a runtime). Spawning through a handle whose runtime is gone
// gives a task that is cancelled at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <source_location>
#include <utility>

#include "rill/detail/block_on.hpp"
#include "rill/runtime/builder.hpp"
#include "rill/runtime/spawn.hpp"
#include "rill/task.hpp"

namespace rill {

namespace detail {
void runtime_inner_ref(runtime_inner* rt) noexcept;
void runtime_inner_unref(runtime_inner* rt) noexcept;
/// `rt`, or std::logic_error when it is null (a runtime used after shutdown or a move,
/// or a moved-from handle).
runtime_inner* live_runtime(runtime_inner* rt);
void check_not_in_runtime(const char* what);
}  // namespace detail

/// Counters that describe a runtime now (all racy snapshots).
struct runtime_metrics {
    std::size_t num_workers;
    std::size_t num_alive_tasks;  // spawned and not finished (block_on's own task excluded)
    std::size_t num_blocking_threads;
    std::size_t num_idle_blocking_threads;
    std::size_t blocking_queue_depth;
};

class runtime {
public:
    class handle;

    /// A multi-thread runtime with default settings and everything enabled.
    runtime();
    explicit runtime(const runtime_config& cfg);
    runtime(runtime&& o) noexcept : inner_(std::exchange(o.inner_, nullptr)) {}
    runtime& operator=(runtime&& o) noexcept;
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime();

    /// Runs `t` to completion; see the file comment.
    template <class T>
    T block_on(task<T> t) {
        detail::check_not_in_runtime("block_on");
        detail::result<T> out;
        detail::block_signal sig;
        detail::runtime_block_on(detail::live_runtime(inner_), detail::block_on_root(std::move(t), &out, &sig), sig);
        return out.take();
    }

    /// Spawns onto this runtime from any thread.
    template <class T>
    join_handle<T> spawn(task<T> t, std::source_location loc = std::source_location::current()) {
        return detail::spawn_on(detail::runtime_scheduler(detail::live_runtime(inner_)), std::move(t), loc);
    }

    template <class F>
    auto spawn_blocking(F&& f, std::source_location loc = std::source_location::current()) {
        return detail::spawn_blocking_on(detail::runtime_blocking(detail::live_runtime(inner_)), std::forward<F>(f), loc);
    }

    handle get_handle() const;
    runtime_metrics metrics() const;
    const runtime_config& config() const;

    /// Shuts down now, waiting at most `timeout` for running blocking work.
    /// Returns false if blocking threads were still running when it expired.
    bool shutdown_timeout(std::chrono::nanoseconds timeout);
    /// Shuts down without waiting for blocking work.
    void shutdown_background();

private:
    void shutdown(std::optional<std::chrono::nanoseconds> timeout, bool* ok);
    detail::runtime_inner* inner_ = nullptr;
};

class runtime::handle {
public:
    handle() noexcept = default;
    handle(const handle& o) noexcept : inner_(o.inner_) {
        if (inner_) detail::runtime_inner_ref(inner_);
    }
    handle(handle&& o) noexcept : inner_(std::exchange(o.inner_, nullptr)) {}
    handle& operator=(handle o) noexcept {
        std::swap(inner_, o.inner_);
        return *this;
    }
    ~handle() {
        if (inner_) detail::runtime_inner_unref(inner_);
    }

    /// The handle of the runtime of the calling thread; throws std::logic_error outside.
    static handle current();
    /// The handle of the calling thread's runtime, if any.
    static std::optional<handle> try_current();

    template <class T>
    join_handle<T> spawn(task<T> t, std::source_location loc = std::source_location::current()) const {
        return detail::spawn_on(detail::runtime_scheduler(detail::live_runtime(inner_)), std::move(t), loc);
    }
    template <class F>
    auto spawn_blocking(F&& f, std::source_location loc = std::source_location::current()) const {
        return detail::spawn_blocking_on(detail::runtime_blocking(detail::live_runtime(inner_)), std::forward<F>(f), loc);
    }
    /// Runs `t` on the runtime and blocks the calling (non-runtime) thread until it ends.
    template <class T>
    T block_on(task<T> t) const {
        detail::check_not_in_runtime("block_on");
        detail::result<T> out;
        detail::block_signal sig;
        detail::runtime_block_on(detail::live_runtime(inner_), detail::block_on_root(std::move(t), &out, &sig), sig);
        return out.take();
    }
    runtime_metrics metrics() const;

private:
    friend class runtime;
    explicit handle(detail::runtime_inner* rt) noexcept : inner_(rt) {}  // adopts a ref
    detail::runtime_inner* inner_ = nullptr;
};

/// Builds a default multi-thread runtime, runs `t` on it, and destroys the runtime.
template <class T>
T block_on(task<T> t) {
    runtime rt;
    return rt.block_on(std::move(t));
}

/// The main entry: runs `t` on a runtime built by `b` (default: multi-thread, all
/// enabled) and returns its int result as the process exit code. An exception escaping
/// `t` is printed to stderr and gives exit code 1.
int run(builder b, task<int> t);
int run(builder b, task<void> t);
inline int run(task<int> t) { return run(builder::new_multi_thread().enable_all(), std::move(t)); }
inline int run(task<void> t) { return run(builder::new_multi_thread().enable_all(), std::move(t)); }

}  // namespace rill
