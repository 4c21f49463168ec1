// Internals of block_on: the root task that records the outcome and signals the
// blocked thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>

#include "rill/detail/result.hpp"
#include "rill/task.hpp"

namespace rill::detail {

struct runtime_inner;

/// Set once by the root task; the thread in block_on waits for it.
struct block_signal {
    std::mutex mutex;
    std::condition_variable cv;
    std::atomic<bool> done{false};
    bool cancelled = false;  // the root was destroyed unfinished (runtime shut down); set before done

    void set() {
        std::lock_guard lock(mutex);
        done.store(true, std::memory_order_release);
        cv.notify_all();
    }
};

/// Signals the blocked thread if the root task is destroyed before it finished (the
/// runtime shut down under it, possibly before the root ever ran), so that block_on
/// fails instead of waiting forever. A parameter of the root coroutine, so that it lives
/// in the frame from the start.
struct block_cancel_guard {
    block_signal* sig;
    explicit block_cancel_guard(block_signal* s) noexcept : sig(s) {}
    block_cancel_guard(block_cancel_guard&& o) noexcept : sig(std::exchange(o.sig, nullptr)) {}
    block_cancel_guard& operator=(block_cancel_guard&&) = delete;
    ~block_cancel_guard() {
        if (sig != nullptr) {
            sig->cancelled = true;
            sig->set();
        }
    }
};

template <class T>
task<void> block_on_root_impl(task<T> t, result<T>* out, block_cancel_guard guard) {
    try {
        // A local, not the parameter: the user's frame (and its parameters) is destroyed
        // at the end of this block, before the signal below lets block_on return, as Tokio
        // drops the future before block_on returns. (The parameter would live until this
        // root frame is freed, on a worker, after block_on has returned.)
        task<T> mine = std::move(t);
        if constexpr (std::is_void_v<T>) {
            co_await std::move(mine);
            out->set_void();
        } else {
            out->set_value(co_await std::move(mine));
        }
    } catch (...) {
        out->set_exception(std::current_exception());
    }
    block_signal* sig = std::exchange(guard.sig, nullptr);
    sig->set();
}

template <class T>
task<void> block_on_root(task<T> t, result<T>* out, block_signal* sig) {
    return block_on_root_impl(std::move(t), out, block_cancel_guard(sig));
}

scheduler_base* runtime_scheduler(runtime_inner* rt) noexcept;
scheduler_base* runtime_blocking(runtime_inner* rt) noexcept;
/// Spawns `root` (a block_on_root task) on the runtime and runs or waits until `sig`.
/// Throws rill::error when the runtime shut down before the root task finished.
void runtime_block_on(runtime_inner* rt, task<void> root, block_signal& sig);

}  // namespace rill::detail
