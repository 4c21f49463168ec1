#include "runtime/blocking/pool.hpp"

#include <system_error>
#include <thread>

#include "rill/detail/cells.hpp"
#include "runtime/context.hpp"
#include "runtime/runtime_inner.hpp"

namespace rill::detail {

blocking_pool::blocking_pool(runtime_inner& rt) : rt_(rt) {
    schedule_fn = &schedule_thunk;
    spawn_fn = &spawn_thunk;
    bind_fn = [](scheduler_base*, header*) { return true; };  // blocking work never waits
    release_fn = &release_thunk;
    report_fn = &report_thunk;
    runtime_ = &rt;
}

void blocking_pool::schedule_thunk(scheduler_base* s, header* h, bool) { static_cast<blocking_pool*>(s)->push(h); }
void blocking_pool::spawn_thunk(scheduler_base* s, header* h) { static_cast<blocking_pool*>(s)->push(h); }
void blocking_pool::report_thunk(scheduler_base* s, header* h, std::exception_ptr e) {
    static_cast<blocking_pool*>(s)->rt_.report(h, std::move(e));
}

void blocking_pool::push(header* h) noexcept {
    std::unique_lock lock(mutex_);
    if (shutdown_) {
        lock.unlock();
        shutdown_task(h);
        ref_dec(h);  // the queue's ref
        return;
    }
    h->queue_next_ = nullptr;
    if (tail_) {
        tail_->queue_next_ = h;
    } else {
        head_ = h;
    }
    tail_ = h;
    ++queued_;
    if (idle_ > num_notify_) {
        ++num_notify_;
        cv_.notify_one();
        return;
    }
    if (threads_ >= rt_.cfg.max_blocking_threads) return;  // a running thread will take it
    ++threads_;
    runtime_inner_ref(&rt_);
    try {
        std::thread([this] { thread_main(); }).detach();
    } catch (const std::system_error&) {
        --threads_;
        runtime_inner_unref(&rt_);
        // No thread could be started: the task waits for a running thread, if any.
    }
}

void blocking_pool::thread_main() noexcept {
    runtime_inner* rt = &rt_;
    {
        context_guard guard(rt->sched->base(), nullptr, rt);
        tls().blocking_thread = true;
        thread_started(rt->cfg);
        std::unique_lock lock(mutex_);
        for (;;) {
            if (header* h = head_) {
                head_ = h->queue_next_;
                if (head_ == nullptr) tail_ = nullptr;
                --queued_;
                lock.unlock();
                run_task(h);
                lock.lock();
                continue;
            }
            if (shutdown_) break;
            ++idle_;
            const bool woke = cv_.wait_for(lock, rt->cfg.thread_keep_alive,
                                           [&] { return head_ != nullptr || shutdown_; });
            --idle_;
            if (num_notify_ > 0) --num_notify_;
            if (!woke) break;  // idle for keep_alive: exit
        }
        // Stop counting as a worker now (a push must start a new thread for work that
        // arrives from here on), but keep shutdown waiting until the stop hook has run:
        // once the runtime is dropped, every on_thread_stop has been called.
        --threads_;
        ++exiting_;
        lock.unlock();
        thread_stopping(rt->cfg);
        lock.lock();
        --exiting_;
        if (threads_ == 0 && exiting_ == 0) done_cv_.notify_all();
    }
    runtime_inner_unref(rt);
}

bool blocking_pool::shutdown(std::optional<std::chrono::nanoseconds> timeout) noexcept {
    header* pending;
    {
        std::lock_guard lock(mutex_);
        shutdown_ = true;
        pending = std::exchange(head_, nullptr);
        tail_ = nullptr;
        queued_ = 0;
        cv_.notify_all();
    }
    while (pending) {
        header* next = pending->queue_next_;
        shutdown_task(pending);
        ref_dec(pending);
        pending = next;
    }
    std::unique_lock lock(mutex_);
    if (!timeout) {
        done_cv_.wait(lock, [&] { return threads_ == 0 && exiting_ == 0; });
        return true;
    }
    return done_cv_.wait_for(lock, *timeout, [&] { return threads_ == 0 && exiting_ == 0; });
}

std::size_t blocking_pool::num_threads() const {
    std::lock_guard lock(mutex_);
    return threads_;
}
std::size_t blocking_pool::num_idle_threads() const {
    std::lock_guard lock(mutex_);
    return idle_;
}
bool blocking_pool::busy() const {
    std::lock_guard lock(mutex_);
    return queued_ > 0 || threads_ > idle_;
}

std::size_t blocking_pool::queue_depth() const {
    std::lock_guard lock(mutex_);
    return queued_;
}

}  // namespace rill::detail
