// The current_thread scheduler: every task runs on the thread inside block_on.
//
// Tasks scheduled from that thread go to a plain FIFO that only it touches; tasks
// scheduled from anywhere else go to a locked remote queue and unpark it. Nothing runs
// between block_on calls; what was queued meanwhile runs at the next one. When several
// threads are in block_on at once, one drives and runs every task (theirs included);
// the others wait for their own task and take over if the driver leaves first.
//
// With I/O enabled the driving thread sleeps in epoll_wait instead of its futex (idle ->
// sleep_for); unpark() then also writes the driver's eventfd when the thread is inside
// epoll_wait (in_driver_, Dekker as in multi_thread.cpp). Events are also polled without
// blocking every event_interval ticks.
//
// Shutdown (the runtime may be dropped on any thread, while another one drives):
//   1. closed_ is set (seq_cst) and the remote queue closed; from now on a wake or a
//      requeue of a bound task only drops its queue ref (the owned-list walk of step 3
//      destroys the task), and a new spawn is cancelled where it is made
//      (drop_after_close, inject.hpp).
//   2. The driver is unparked (futex or eventfd); it sees closed_ at the top of its loop
//      or before it sleeps, stops polling and releases drive_mutex_. shutdown takes
//      drive_mutex_, so from here on no other thread runs a task or touches the local
//      FIFO (head_/tail_ are driver-only: holding drive_mutex_ is being the driver).
//   3. The owned list is closed and walked, then the queues are drained: every
//      unfinished task, the block_on roots included, is destroyed on the dropping thread.
//   4. A thread in block_until whose root is not done yet (it was driving, or waiting
//      for the driver) waits on its signal without a timeout: step 3 destroys its root,
//      whose guard signals it, and block_on throws rill::error.
//   shutdown called by the driver itself (a task dropping its own runtime) already holds
//   drive_mutex_ and does not take it; its running task is only marked CANCELLED and is
//   destroyed by run_task when its poll returns.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "rill/detail/cells.hpp"
#include "runtime/context.hpp"
#include "runtime/io/driver.hpp"
#include "runtime/runtime_inner.hpp"
#include "runtime/scheduler/every.hpp"
#include "runtime/scheduler/inject.hpp"
#include "runtime/scheduler/parker.hpp"
#include "runtime/blocking/pool.hpp"
#include "runtime/task/owned_tasks.hpp"
#include "runtime/time/driver.hpp"

namespace rill::detail {
namespace {

class current_thread final : public scheduler_impl, public scheduler_base {
public:
    explicit current_thread(runtime_inner& rt) : rt_(rt), owned_(1) {
        schedule_fn = &schedule_thunk;
        spawn_fn = &spawn_thunk;
        bind_fn = &bind_thunk;
        release_fn = &release_thunk;
        report_fn = &report_thunk;
        runtime_ = &rt;
    }
    ~current_thread() override { shutdown(); }

    scheduler_base* base() noexcept override { return this; }
    std::size_t num_workers() const noexcept override { return 1; }
    std::size_t num_alive_tasks() const noexcept override {
        const std::int64_t n = alive_.load(std::memory_order_relaxed);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    void timer_added(std::uint64_t) noexcept override {
        // The driver thread recomputes its timeout before it parks; others must wake it.
        thread_context& c = tls();
        if (!(c.scheduler == this && c.worker == &marker_)) unpark();
    }

    void block_until(block_signal& sig) override {
        // One thread drives at a time. A block_on from another thread meanwhile (a plain
        // thread, a blocking-pool thread) has already queued its root task, which the
        // driver will run: it waits for it, and takes over driving if the driver leaves
        // first (as Tokio's current_thread block_on). It must not give up: the queued
        // root points into its caller's stack.
        // Once closed_ is set, shutdown destroys every queued or owned task, this root
        // included (shutdown step 3), and its guard signals `sig`: wait for that.
        auto done = [&] { return sig.done.load(std::memory_order_acquire); };
        for (;;) {
            if (!closed_.load(std::memory_order_acquire)) {
                std::unique_lock drive(drive_mutex_, std::try_to_lock);
                if (drive.owns_lock()) {
                    drive_until(sig);
                    if (done()) return;
                    continue;  // closed: let shutdown take drive_mutex_
                }
            }
            std::unique_lock lock(sig.mutex);
            if (closed_.load(std::memory_order_acquire)) {
                sig.cv.wait(lock, done);
                return;
            }
            if (sig.cv.wait_for(lock, std::chrono::milliseconds(1), done)) return;
        }
    }

    void drive_until(block_signal& sig) {
        context_guard guard(this, &marker_, &rt_);
        every events(rt_.cfg.event_interval);
        every global_queue(rt_.cfg.global_queue_interval);
        // Leaves as soon as the runtime is closed (shutdown step 2): shutdown waits for
        // drive_mutex_ and destroys what is left.
        while (!sig.done.load(std::memory_order_acquire) && !closed_.load(std::memory_order_acquire)) {
            header* t = nullptr;
            if (events.fire()) {
                process_timers();
                if (rt_.io) rt_.io->try_poll();
            }
            if (global_queue.fire()) t = remote_.pop();
            if (t == nullptr) t = pop_local();
            if (t == nullptr) t = remote_.pop();
            if (t != nullptr) {
                run_task(t);
                continue;
            }
            if (process_timers() > 0) continue;
            idle(sig);
        }
    }

    /// Nothing to run: wait for a wake, the next timer, or (paused clock, nothing in
    /// flight) jump the clock to the next timer.
    void idle(block_signal& sig) {
        time_driver* time = rt_.time.get();
        if (time == nullptr) {
            sleep_for(-1);
            return;
        }
        const std::uint64_t next = time->next_deadline();
        if (time->paused()) {
            // Auto-advance only when nothing else can happen: no ready I/O either.
            if (rt_.io && rt_.io->try_poll() > 0) return;
            if (next != time_driver::none && !rt_.pool->busy() && remote_.empty() &&
                !sig.done.load(std::memory_order_acquire)) {
                const std::uint64_t now = time->now_ms();
                if (next > now) time->advance(std::chrono::milliseconds(next - now));
                return;  // the loop fires the timers
            }
            sleep_for(-1);
            return;
        }
        if (next == time_driver::none) {
            sleep_for(-1);
            return;
        }
        const std::uint64_t now = time->now_ms();
        if (next > now) {
            const std::uint64_t wait = next - now;
            sleep_for(wait > 1'000'000'000u ? 1'000'000'000 : static_cast<int>(wait));
        }
    }

    /// Sleeps until unparked or `timeout_ms` (-1: forever) passes; in epoll_wait when I/O
    /// is enabled (its events are dispatched on the way out).
    void sleep_for(int timeout_ms) {
        // shutdown sets closed_ before it unparks: an unpark that comes after this check
        // is remembered by the parker (or read from the eventfd), so the driver never
        // sleeps through it.
        if (closed_.load(std::memory_order_seq_cst)) return;
        if (!rt_.io) {
            if (timeout_ms < 0) {
                park_.park();
            } else {
                park_.park_timeout(std::chrono::milliseconds(timeout_ms));
            }
            return;
        }
        in_driver_.store(true, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        rt_.io->poll(timeout_ms, park_);
        in_driver_.store(false, std::memory_order_seq_cst);
        park_.take_notified();
    }

    /// Wakes the driving thread from its futex or from epoll_wait.
    void unpark() noexcept {
        park_.unpark();
        if (rt_.io) {
            std::atomic_thread_fence(std::memory_order_seq_cst);
            if (in_driver_.load(std::memory_order_seq_cst)) rt_.io->wake();
        }
    }

    std::size_t process_timers() { return rt_.time ? rt_.time->process_due() : 0; }

    void shutdown() noexcept override {
        if (shutdown_started_.exchange(true)) return;
        // The protocol is in the block at the top of this file.
        closed_.store(true, std::memory_order_seq_cst);
        remote_.close();  // a schedule() that passed the closed_ check cannot push after the drain
        unpark();         // a driver asleep in idle() wakes, sees closed_ and leaves
        thread_context& c = tls();
        std::unique_lock drive(drive_mutex_, std::defer_lock);
        if (!(c.scheduler == this && c.worker == &marker_)) drive.lock();  // the driver has left
        {
            context_guard guard(this, nullptr, &rt_);
            owned_.close_and_shutdown_all();
        }
        context_guard guard(this, nullptr, &rt_);
        for (;;) {
            header* h = pop_local();
            if (h == nullptr) h = remote_.pop();
            if (h == nullptr) break;
            shutdown_task(h);  // never waited, so in no owned list
            ref_dec(h);
        }
    }

private:
    static void schedule_thunk(scheduler_base* s, header* h, bool yield) {
        static_cast<current_thread*>(s)->schedule(h, yield);
    }
    static void spawn_thunk(scheduler_base* s, header* h) { static_cast<current_thread*>(s)->spawn(h); }
    static bool bind_thunk(scheduler_base* s, header* h) { return static_cast<current_thread*>(s)->owned_.insert(h); }
    static void release_thunk(scheduler_base* s, header* h) {
        auto* self = static_cast<current_thread*>(s);
        if (h->bound()) self->owned_.remove(h);
        if (h->counted()) self->alive_.fetch_sub(1, std::memory_order_relaxed);
    }
    static void report_thunk(scheduler_base* s, header* h, std::exception_ptr e) {
        static_cast<current_thread*>(s)->rt_.report(h, std::move(e));
    }

    void spawn(header* h) noexcept {
        if (h->counted()) alive_.fetch_add(1, std::memory_order_relaxed);
        schedule(h, false);
    }

    void schedule(header* h, bool /*yield*/) noexcept {
        if (closed_.load(std::memory_order_acquire)) {
            drop_after_close(h);
            return;
        }
        thread_context& c = tls();
        if (c.scheduler == this && c.worker == &marker_) {
            h->queue_next_ = nullptr;
            if (tail_) {
                tail_->queue_next_ = h;
            } else {
                head_ = h;
            }
            tail_ = h;
            return;
        }
        // From another thread: nothing of this scheduler may be touched afterwards.
        push_from_outside(rt_, remote_, h, [this] { unpark(); });
    }

    header* pop_local() noexcept {
        header* h = head_;
        if (h) {
            head_ = h->queue_next_;
            if (head_ == nullptr) tail_ = nullptr;
            h->queue_next_ = nullptr;
        }
        return h;
    }

    runtime_inner& rt_;
    owned_tasks owned_;
    header* head_ = nullptr;  // local FIFO: the holder of drive_mutex_ only
    header* tail_ = nullptr;
    inject_queue remote_;
    parker park_;
    std::atomic<bool> in_driver_{false};
    std::mutex drive_mutex_;  // held by the driving thread; shutdown takes it (step 2)
    int marker_ = 0;  // its address marks "this thread drives this scheduler"
    std::atomic<std::int64_t> alive_{0};
    std::atomic<bool> closed_{false};
    std::atomic<bool> shutdown_started_{false};
};

}  // namespace

std::unique_ptr<scheduler_impl> make_current_thread(runtime_inner& rt) { return std::make_unique<current_thread>(rt); }

}  // namespace rill::detail
