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

    void set() {
        std::lock_guard lock(mutex);
        done.store(true, std::memory_order_release);
        cv.notify_all();
    }
};

template <class T>
task<void> block_on_root(task<T> t, result<T>* out, block_signal* sig) {
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(t);
            out->set_void();
        } else {
            out->set_value(co_await std::move(t));
        }
    } catch (...) {
        out->set_exception(std::current_exception());
    }
    sig->set();
}

scheduler_base* runtime_scheduler(runtime_inner* rt) noexcept;
scheduler_base* runtime_blocking(runtime_inner* rt) noexcept;
/// Spawns `root` (a block_on_root task) on the runtime and runs or waits until `sig`.
void runtime_block_on(runtime_inner* rt, task<void> root, block_signal& sig);

}  // namespace rill::detail
