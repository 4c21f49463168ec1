#include "runtime/blocking/pool.hpp"

#include <cstdio>
#include <exception>
#include <thread>
#include <utility>

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

namespace {
// Tokio panics here; rill fails the work instead (see push: each job's handle rethrows
// the error, std::system_error from std::thread) and says why on stderr.
void report_start_failure(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "rill: could not start a blocking thread (%s); queued blocking work failed\n",
                     ex.what());
    } catch (...) {
        std::fputs("rill: could not start a blocking thread; queued blocking work failed\n", stderr);
    }
}
}  // namespace

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
    std::exception_ptr failure;
    try {
        std::thread([this] { thread_main(); }).detach();
        return;
    } catch (...) {  // std::system_error (EAGAIN), std::bad_alloc
        failure = std::current_exception();
    }
    --threads_;
    // No thread could be started. Every thread still in the pool is running a job or has
    // been signalled (idle_ == num_notify_), so it looks at the queue again: the job
    // waits for it. With none left, nobody ever would: cancel what is queued (only jobs
    // pushed since the last thread left, each of which failed to start a thread), so
    // their join handles rethrow the thread-start error instead of hanging.
    header* orphans = nullptr;
    if (threads_ == 0) {
        orphans = std::exchange(head_, nullptr);
        tail_ = nullptr;
        queued_ = 0;
    }
    lock.unlock();
    runtime_inner_unref(&rt_);  // not the last: the cell holds a ref of the runtime
    if (orphans == nullptr) return;
    report_start_failure(failure);
    while (orphans) {
        header* next = orphans->queue_next_;
        fail_task(orphans, failure);  // its join handle rethrows the thread-start error
        ref_dec(orphans);  // the queue's ref
        orphans = next;
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
            if (!wait_for_work(lock)) break;  // idle for keep_alive: exit
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

bool blocking_pool::wait_for_work(std::unique_lock<std::mutex>& lock) {
    ++idle_;
    const auto deadline = std::chrono::steady_clock::now() + rt_.cfg.thread_keep_alive;
    bool keep = true;
    for (;;) {
        const bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
        if (num_notify_ > 0) {
            // Consume a signal whether or not a job is left: a busy thread may have taken
            // the job it was sent for. Left pending, it would make the pool count one
            // idle thread as signalled for good and never wake it for the next job.
            --num_notify_;
            break;
        }
        if (shutdown_) break;
        if (timed_out) {
            keep = head_ != nullptr;  // never leave while a job is queued
            break;
        }
    }
    --idle_;
    return keep;
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
