// The multi-thread work-stealing scheduler (DESIGN §5).
//
// Each worker owns a 256-slot ring (local_queue) and a LIFO slot. A task woken or
// spawned by a worker goes into that worker's LIFO slot (the displaced one to the back
// of the ring), so a message handed to a task that is waiting for it runs next, while
// the data is hot; at most 3 LIFO polls run in a row, then the ring gets its turn.
// Every global_queue_interval ticks the inject queue is checked first, so work from
// outside is never starved by busy rings. A worker with nothing to do may *search*
// (steal half of another ring, then the inject queue) when fewer than half of the
// workers are searching; otherwise it parks.
//
// Idle protocol (who wakes whom):
//   idle_state_ packs (searching << 16 | unparked). Whoever makes work visible (a push
//   to a ring or to inject) then runs notify_parked(): if nobody is searching and some
//   worker is parked, it pops one sleeper, counts it as unparked and searching, and
//   unparks it. A worker that stops searching because it found work, and was the last
//   searcher, notifies another (more work may be waiting). A worker that parks puts
//   itself on the sleeper list and decrements the counters (seq_cst), then looks at every
//   queue once more: work pushed before its decrement is seen there, work pushed after
//   it sees the decrement and wakes someone. Both sides use seq_cst fences (Dekker).
//
// Clock and I/O watcher: one parked worker (timer_watcher_) waits for the next timer
// deadline; with I/O enabled it does so inside epoll_wait (io_park), the others sleep on
// their futex. Unparking a worker goes through unpark_worker(): futex state first, then,
// if the worker is inside the driver (in_driver, Dekker with io_park), the eventfd.
// Busy workers also poll epoll without blocking every event_interval ticks and once
// before they park (docs/design/io_driver.md).
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/detail/cells.hpp"
#include "runtime/context.hpp"
#include "runtime/io/driver.hpp"
#include "runtime/io/uring.hpp"
#include "runtime/runtime_inner.hpp"
#include "runtime/scheduler/inject.hpp"
#include "runtime/scheduler/every.hpp"
#include "runtime/scheduler/local_queue.hpp"
#include "runtime/scheduler/parker.hpp"
#include "runtime/task/owned_tasks.hpp"
#include "runtime/time/driver.hpp"

namespace rill::detail {
namespace {

constexpr std::uint32_t max_lifo_polls = 3;
constexpr long idle_wait_ns = 50'000;  // see run_worker

struct worker {
    std::size_t index = 0;
    local_queue run_queue;
    header* lifo = nullptr;  // owner only
    std::uint32_t lifo_polls = 0;
    every events{1};        // poll timers and I/O (set from the config)
    every global_queue{1};  // take from the inject queue first
    bool searching = false;
    std::uint64_t rng = 0x9E3779B97F4A7C15ull;
    parker park;
    std::atomic<bool> in_driver{false};  // blocked (or about to block) in epoll_wait
    std::atomic<std::int64_t> alive{0};  // spawned minus completed on this worker (see count_alive)
    // This worker's io_uring ring (null: io_uring off or unavailable). Queued requests
    // are submitted when the worker runs out of work, every event_interval ticks and
    // before it parks.
    std::unique_ptr<uring_ring, void (*)(uring_ring*)> ring{nullptr, nullptr};

    std::uint64_t next_rand() noexcept {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return rng * 0x2545F4914F6CDD1Dull;
    }
};

class multi_thread final : public scheduler_impl, public scheduler_base {
public:
    explicit multi_thread(runtime_inner& rt)
        : rt_(rt), owned_(std::max<std::size_t>(rt.cfg.worker_threads * 4, 4)) {
        schedule_fn = &schedule_thunk;
        spawn_fn = &spawn_thunk;
        bind_fn = &bind_thunk;
        release_fn = &release_thunk;
        report_fn = &report_thunk;
        runtime_ = &rt;
        const std::size_t n = rt.cfg.worker_threads;
        workers_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            workers_.push_back(std::make_unique<worker>());
            workers_.back()->index = i;
            workers_.back()->events = every(rt.cfg.event_interval);
            workers_.back()->global_queue = every(rt.cfg.global_queue_interval);
            workers_.back()->rng ^= (i + 1) * 0xBF58476D1CE4E5B9ull;
            if (rt.io && uring_wanted(rt.cfg.io_uring)) workers_.back()->ring = uring_create(rt.io.get(), 256);
        }
        idle_state_.store(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
        // Every worker may be asleep at once: reserve now, so that parking never allocates
        // (steady state allocates nothing, DESIGN §7).
        sleepers_.reserve(n);
        threads_.reserve(n);
        try {
            for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { run_worker(*workers_[i]); });
        } catch (...) {
            // A worker could not start (EAGAIN: out of threads or address space). The
            // destructor will not run: shut down here (stop and join the workers that did
            // start, drain the rings), so that build() throws instead of std::thread's
            // destructor terminating the process.
            shutdown();
            throw;
        }
    }

    ~multi_thread() override { shutdown(); }

    scheduler_base* base() noexcept override { return this; }
    std::size_t num_workers() const noexcept override { return workers_.size(); }
    std::size_t num_alive_tasks() const noexcept override {
        std::int64_t n = external_alive_.load(std::memory_order_relaxed);
        for (auto& w : workers_) n += w->alive.load(std::memory_order_relaxed);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }

    void timer_added(std::uint64_t deadline_ms) noexcept override {
        // Wake the clock watcher only if it would sleep past the new deadline. Dekker
        // with the watcher (park): it publishes the deadline it will sleep to, then
        // re-reads the shards; we publish the timer (in add), then read its deadline.
        if (deadline_ms >= watcher_deadline_.load(std::memory_order_seq_cst)) return;
        const std::size_t idx = timer_watcher_.load(std::memory_order_acquire);
        if (idx != no_watcher) unpark_worker(*workers_[idx]);
    }

    void block_until(block_signal& sig) override {
        std::unique_lock lock(sig.mutex);
        sig.cv.wait(lock, [&] { return sig.done.load(std::memory_order_acquire); });
    }

    void shutdown() noexcept override {
        if (shutdown_started_.exchange(true)) return;
        stopping_.store(true, std::memory_order_seq_cst);
        for (auto& w : workers_) unpark_worker(*w);
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        closed_.store(true, std::memory_order_seq_cst);
        inject_.close();  // a schedule() that passed the closed_ check cannot push after the drain
        {
            // Destructors of cancelled tasks may spawn: give them a context to fail in.
            context_guard guard(this, nullptr, &rt_);
            owned_.close_and_shutdown_all();
        }
        {
            // Queued tasks that never waited are in no owned list: cancel them here.
            context_guard guard(this, nullptr, &rt_);
            auto drop = [](header* h) {
                shutdown_task(h);
                ref_dec(h);
            };
            for (auto& w : workers_) {
                if (header* h = std::exchange(w->lifo, nullptr)) drop(h);
                while (header* h = w->run_queue.pop()) drop(h);
            }
            while (header* h = inject_.pop()) drop(h);
            // Every task is gone: cancel what their sockets left in flight, and wait
            // until the kernel has let go of every op.
            for (auto& w : workers_)
                if (w->ring) uring_drain(w->ring.get());
        }
    }

private:
    // --- scheduler_base entry points ---------------------------------------------------
    static void schedule_thunk(scheduler_base* s, header* h, bool yield) {
        static_cast<multi_thread*>(s)->schedule(h, yield);
    }
    static void spawn_thunk(scheduler_base* s, header* h) { static_cast<multi_thread*>(s)->spawn(h); }
    static bool bind_thunk(scheduler_base* s, header* h) { return static_cast<multi_thread*>(s)->owned_.insert(h); }
    static void release_thunk(scheduler_base* s, header* h) {
        auto* self = static_cast<multi_thread*>(s);
        if (h->bound()) self->owned_.remove(h);
        if (h->counted()) self->count_alive(-1);
    }
    static void report_thunk(scheduler_base* s, header* h, std::exception_ptr e) {
        static_cast<multi_thread*>(s)->rt_.report(h, std::move(e));
    }

    void spawn(header* h) noexcept {
        thread_context& c = tls();
        if (h->counted()) count_alive(c, 1);
        schedule(c, h, false);
    }

    // Alive tasks = spawned - completed, counted per worker (each slot written by one
    // worker only, so the hot path never bounces a shared counter) plus one shared slot
    // for other threads.
    void count_alive(std::int64_t d) noexcept { count_alive(tls(), d); }
    void count_alive(thread_context& c, std::int64_t d) noexcept {
        if (c.scheduler == this && c.worker != nullptr) {
            auto& slot = static_cast<worker*>(c.worker)->alive;
            slot.store(slot.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
        } else {
            external_alive_.fetch_add(d, std::memory_order_relaxed);
        }
    }

    void schedule(header* h, bool yield) noexcept { schedule(tls(), h, yield); }
    // The hot path (a worker queueing onto itself) is small enough to inline into the
    // thunks; everything else is out of line.
    void schedule(thread_context& c, header* h, bool yield) noexcept {
        if (closed_.load(std::memory_order_acquire)) [[unlikely]] {
            schedule_closed(h);
            return;
        }
        if (c.scheduler != this || c.worker == nullptr) [[unlikely]] {
            schedule_remote(h);
            return;
        }
        worker& w = *static_cast<worker*>(c.worker);
        if (!yield) {
            header* prev = std::exchange(w.lifo, h);
            if (prev == nullptr) [[likely]] return;  // the LIFO task runs next on this worker
            h = prev;
        }
        schedule_local(w, h);
    }
    // Shut down: nothing runs any more. Drop the queue's ref; a bound task is left to the
    // owned-list walk on the dropping thread (drop_after_close, inject.hpp).
    [[gnu::noinline]] static void schedule_closed(header* h) noexcept { drop_after_close(h); }
    [[gnu::noinline]] void schedule_local(worker& w, header* h) noexcept {
        w.run_queue.push_back(h, inject_);
        // Wake a sleeper only when this push made the ring non-empty. A ring that
        // already held work was announced by the push that filled it, and a worker
        // about to park sees it in its last look (work_visible); the last searcher
        // to find work wakes the next one, so work still fans out.
        if (w.run_queue.len() > 1) return;
        notify_parked();
    }
    // From outside the workers: nothing of this scheduler may be touched afterwards.
    [[gnu::noinline]] void schedule_remote(header* h) noexcept {
        push_from_outside(rt_, inject_, h, [this] { notify_parked(); });
    }

    // --- worker loop ---------------------------------------------------------------------
    void run_worker(worker& w) {
        context_guard guard(this, &w, &rt_);
        tls().worker_index = w.index;
        tls().lifo_slot = &w.lifo;
        tls().ring = w.ring.get();
        tls().alive = &w.alive;
        thread_started(rt_.cfg);
        while (!stopping_.load(std::memory_order_acquire)) {
            if (w.events.fire()) {
                process_timers();
                if (rt_.io) rt_.io->try_poll();
                if (w.ring) uring_flush(w.ring.get());
            }
            header* t = next_task(w);
            // Out of local work: submit the requests the tasks queued, in one batch.
            if (t == nullptr && w.ring && uring_flush(w.ring.get()) > 0) t = next_task(w);
            if (t == nullptr) t = search(w);
            // Still nothing, but requests in flight: their completions come within
            // microseconds in request/response traffic. Wait for them in the ring for a
            // moment rather than in a futex (where the completion's task work would
            // interrupt the sleep anyway, and someone else must reap).
            if (t == nullptr && w.ring && uring_idle_wait(w.ring.get(), idle_wait_ns) > 0) t = next_task(w);
            if (t != nullptr) {
                if (w.searching) end_search(w);
                run_task(t);
                continue;
            }
            park(w);
        }
        thread_stopping(rt_.cfg);
    }

    header* next_task(worker& w) noexcept {
        if (w.global_queue.fire()) {
            if (header* t = inject_.pop()) return t;
        }
        if (w.lifo != nullptr) {
            if (w.lifo_polls < max_lifo_polls) {
                ++w.lifo_polls;
                return std::exchange(w.lifo, nullptr);
            }
            // The limit keeps a LIFO chain from starving the run queue. With the queue
            // empty there is nothing to starve (the inject queue, timers and I/O have their
            // own intervals), so run the task now rather than push it and pop it back.
            if (w.run_queue.empty()) {
                w.lifo_polls = 1;
                return std::exchange(w.lifo, nullptr);
            }
            w.run_queue.push_back(std::exchange(w.lifo, nullptr), inject_);
        }
        w.lifo_polls = 0;
        if (header* t = w.run_queue.pop()) return t;
        return inject_.pop();
    }

    header* search(worker& w) noexcept {
        if (!w.searching) {
            if (!begin_search()) return nullptr;
            w.searching = true;
        }
        const std::size_t n = workers_.size();
        const std::size_t start = static_cast<std::size_t>(w.next_rand() % n);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t idx = (start + i) % n;
            if (idx == w.index) continue;
            if (header* t = workers_[idx]->run_queue.steal_into(w.run_queue)) return t;
        }
        return inject_.pop();
    }

    /// Fires due timers; the tasks they wake land in this worker's queues.
    std::size_t process_timers() noexcept { return rt_.time ? rt_.time->process_due() : 0; }

    // --- idle protocol ---------------------------------------------------------------------
    static constexpr std::uint32_t searching_one = 1u << 16;
    static constexpr std::uint32_t unparked_mask = searching_one - 1;

    bool begin_search() noexcept {
        std::uint32_t cur = idle_state_.load(std::memory_order_seq_cst);
        for (;;) {
            if (2 * (cur >> 16) >= workers_.size()) return false;
            if (idle_state_.compare_exchange_weak(cur, cur + searching_one, std::memory_order_seq_cst))
                return true;
        }
    }

    void end_search(worker& w) noexcept {
        w.searching = false;
        std::uint32_t prev = idle_state_.fetch_sub(searching_one, std::memory_order_seq_cst);
        if ((prev >> 16) == 1) notify_parked();
    }

    void notify_parked() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        std::uint32_t s = idle_state_.load(std::memory_order_seq_cst);
        if ((s >> 16) != 0 || (s & unparked_mask) >= workers_.size()) return;
        std::size_t idx;
        {
            std::lock_guard lock(sleepers_mutex_);
            s = idle_state_.load(std::memory_order_seq_cst);
            if ((s >> 16) != 0 || sleepers_.empty()) return;
            idx = sleepers_.back();
            sleepers_.pop_back();
            idle_state_.fetch_add(1 + searching_one, std::memory_order_seq_cst);
        }
        unpark_worker(*workers_[idx]);
    }

    /// Wakes `w` from its futex, or from epoll_wait when it is the I/O watcher.
    void unpark_worker(worker& w) noexcept {
        w.park.unpark();
        if (rt_.io) {
            std::atomic_thread_fence(std::memory_order_seq_cst);  // Dekker with io_park
            if (w.in_driver.load(std::memory_order_seq_cst)) rt_.io->wake();
        }
    }

    /// The watcher's sleep with I/O enabled: epoll_wait for at most `timeout_ms` (-1:
    /// forever) unless an unpark is already pending. Returns the waiters woken.
    std::size_t io_park(worker& w, int timeout_ms) {
        w.in_driver.store(true, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        std::size_t woken = rt_.io->poll(timeout_ms, w.park);
        w.in_driver.store(false, std::memory_order_seq_cst);
        w.park.take_notified();  // awake now anyway; the caller re-checks its state
        return woken;
    }

    bool work_visible() const noexcept {
        if (!inject_.empty()) return true;
        for (auto& w : workers_)
            if (!w->run_queue.empty()) return true;
        return false;
    }

    bool remove_sleeper(std::size_t idx) noexcept {
        std::lock_guard lock(sleepers_mutex_);
        auto it = std::find(sleepers_.begin(), sleepers_.end(), idx);
        if (it == sleepers_.end()) return false;
        sleepers_.erase(it);
        idle_state_.fetch_add(1 + searching_one, std::memory_order_seq_cst);
        return true;
    }

    bool is_sleeper(std::size_t idx) noexcept {
        std::lock_guard lock(sleepers_mutex_);
        return std::find(sleepers_.begin(), sleepers_.end(), idx) != sleepers_.end();
    }

    void park(worker& w) noexcept {
        if (w.ring && uring_flush(w.ring.get()) > 0) return;  // completions woke tasks
        if (process_timers() > 0) return;  // timers woke tasks: run them instead
        if (rt_.io && rt_.io->try_poll() > 0) return;  // so did I/O events
        {
            std::lock_guard lock(sleepers_mutex_);
            sleepers_.push_back(w.index);
            std::uint32_t dec = 1 + (w.searching ? searching_one : 0);
            idle_state_.fetch_sub(dec, std::memory_order_seq_cst);
            w.searching = false;
        }
        // Work pushed before the decrement above is visible here; work pushed after it
        // sees the decrement and wakes a sleeper. This also covers the last searcher
        // leaving work behind.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (work_visible() || stopping_.load(std::memory_order_seq_cst)) {
            if (remove_sleeper(w.index)) {
                w.searching = true;
                return;
            }
        }
        // One parked worker watches the clock (parks with the next deadline as its
        // timeout); the others sleep until notified.
        std::size_t expected = no_watcher;
        const bool watcher = (rt_.time || rt_.io) &&
                             timer_watcher_.compare_exchange_strong(expected, w.index, std::memory_order_acq_rel);
        while (!stopping_.load(std::memory_order_acquire)) {
            if (watcher) {
                std::uint64_t next = time_driver::none;
                std::uint64_t now = 0;
                if (rt_.time) {
                    next = rt_.time->next_deadline();
                    watcher_deadline_.store(next, std::memory_order_seq_cst);
                    if (rt_.time->next_deadline() < next) continue;  // one came in meanwhile
                    now = rt_.time->now_ms();
                    if (next <= now) {
                        if (rt_.time->process(now) > 0) {
                            // The woken tasks are in our queues: leave the sleeper list.
                            remove_sleeper(w.index);
                            break;
                        }
                        continue;
                    }
                } else {
                    watcher_deadline_.store(next, std::memory_order_seq_cst);
                }
                if (rt_.io) {
                    const std::uint64_t wait = next == time_driver::none ? 0 : next - now;
                    const int timeout = next == time_driver::none ? -1
                                        : wait > 1'000'000'000u      ? 1'000'000'000
                                                                     : static_cast<int>(wait);
                    if (io_park(w, timeout) > 0) {
                        remove_sleeper(w.index);  // events woke tasks into our queues
                        break;
                    }
                } else if (next == time_driver::none) {
                    w.park.park();
                } else {
                    w.park.park_timeout(std::chrono::milliseconds(next - now));
                }
            } else {
                w.park.park();
            }
            if (!is_sleeper(w.index)) break;  // a notifier took us off the list
        }
        if (watcher) {
            watcher_deadline_.store(0, std::memory_order_seq_cst);  // nobody to wake now
            timer_watcher_.store(no_watcher, std::memory_order_release);
        }
        // The notifier (or remove_sleeper) counted us as unparked and searching.
        w.searching = true;
    }

    runtime_inner& rt_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::thread> threads_;
    inject_queue inject_;
    owned_tasks owned_;
    // Read by every push (notify_parked): alone on its cache line, away from the
    // sleepers' mutex that parking workers write.
    alignas(64) std::atomic<std::uint32_t> idle_state_{0};
    alignas(64) std::mutex sleepers_mutex_;
    std::vector<std::size_t> sleepers_;
    static constexpr std::size_t no_watcher = ~std::size_t{0};
    std::atomic<std::size_t> timer_watcher_{no_watcher};
    alignas(64) std::atomic<std::uint64_t> watcher_deadline_{0};  // what the watcher sleeps until
    std::atomic<std::int64_t> external_alive_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> closed_{false};
    std::atomic<bool> shutdown_started_{false};
};

}  // namespace

std::unique_ptr<scheduler_impl> make_multi_thread(runtime_inner& rt) { return std::make_unique<multi_thread>(rt); }

}  // namespace rill::detail
