// runtime, handle, builder and the main entry.
#include "rill/runtime/runtime.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "rill/error.hpp"
#include "runtime/blocking/pool.hpp"
#include "runtime/context.hpp"
#include "runtime/io/driver.hpp"
#include "runtime/runtime_inner.hpp"
#include "runtime/time/driver.hpp"
#include "signal/sigpipe.hpp"

namespace rill {

namespace detail {

void runtime_inner::report(header* h, std::exception_ptr e) noexcept {
    task_failure f{h->id(), h->location(), e};
    if (cfg.on_unhandled_exception) {
        try {
            cfg.on_unhandled_exception(f);
        } catch (...) {
            std::fputs("rill: on_unhandled_exception hook threw; ignored\n", stderr);
        }
        return;
    }
    const char* what = "unknown exception";
    std::string msg;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        msg = ex.what();
        what = msg.c_str();
    } catch (...) {
    }
    std::fprintf(stderr, "rill: task %llu spawned at %s:%u threw an exception nobody awaited: %s\n",
                 static_cast<unsigned long long>(h->id()), h->location().file_name(),
                 static_cast<unsigned>(h->location().line()), what);
}

runtime_inner::runtime_inner() = default;
runtime_inner::~runtime_inner() = default;

runtime_inner* live_runtime(runtime_inner* rt) {
    if (rt == nullptr)
        throw std::logic_error("rill::runtime: used after shutdown (or a move); the runtime has no scheduler any more");
    return rt;
}

void runtime_inner_ref(runtime_inner* rt) noexcept { rt->refs.fetch_add(1, std::memory_order_relaxed); }

void runtime_inner_unref(runtime_inner* rt) noexcept {
    if (rt->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rt;
}

void thread_started(const runtime_config& cfg) {
    std::string name = cfg.thread_name_fn ? cfg.thread_name_fn() : cfg.thread_name;
    if (name.size() > 15) name.resize(15);  // the kernel's limit
    pthread_setname_np(pthread_self(), name.c_str());
    if (cfg.on_thread_start) cfg.on_thread_start();
}

void thread_stopping(const runtime_config& cfg) {
    if (cfg.on_thread_stop) cfg.on_thread_stop();
}

scheduler_base* runtime_scheduler(runtime_inner* rt) noexcept { return rt->sched->base(); }
scheduler_base* runtime_blocking(runtime_inner* rt) noexcept { return rt->pool.get(); }

void runtime_block_on(runtime_inner* rt, task<void> root, block_signal& sig) {
    // Our own reference for the whole call: a task may drop the last `runtime` object
    // while we drive it (current_thread), and the scheduler must outlive block_until.
    runtime_inner_ref(rt);
    struct unref_on_exit {
        runtime_inner* rt;
        ~unref_on_exit() { runtime_inner_unref(rt); }
    } keep{rt};
    // Not counted in the alive tasks (Tokio runs it outside the scheduler).
    spawn_on(rt->sched->base(), std::move(root), std::source_location::current(), state::uncounted).detach();
    rt->sched->block_until(sig);
    if (sig.cancelled) throw rill::error("rill: block_on: the runtime was shut down before the task finished");
}

void check_not_in_runtime(const char* what) {
    if (tls().worker != nullptr)
        throw std::logic_error(std::string("rill: ") + what +
                               " called from a runtime thread would block it (use co_await, or "
                               "spawn_blocking)");
}

namespace {
std::size_t available_cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<std::size_t>(n);
    }
    unsigned n = std::thread::hardware_concurrency();
    return n ? n : 1;
}
}  // namespace

}  // namespace detail

// --- builder -------------------------------------------------------------------------

builder& builder::worker_threads(std::size_t n) {
    if (n == 0) throw std::invalid_argument("rill::builder::worker_threads: must be at least 1");
    cfg_.worker_threads = n;
    return *this;
}

builder& builder::max_blocking_threads(std::size_t n) {
    if (n == 0) throw std::invalid_argument("rill::builder::max_blocking_threads: must be at least 1");
    cfg_.max_blocking_threads = n;
    return *this;
}

builder& builder::global_queue_interval(std::uint32_t ticks) {
    if (ticks == 0) throw std::invalid_argument("rill::builder::global_queue_interval: must be at least 1");
    cfg_.global_queue_interval = ticks;
    return *this;
}

builder& builder::event_interval(std::uint32_t ticks) {
    if (ticks == 0) throw std::invalid_argument("rill::builder::event_interval: must be at least 1");
    cfg_.event_interval = ticks;
    return *this;
}

runtime builder::build() { return runtime(cfg_); }

// --- runtime -------------------------------------------------------------------------

runtime::runtime() : runtime(builder::new_multi_thread().enable_all().config()) {}

runtime::runtime(const runtime_config& cfg) {
    rill::signal::detail::ignore_sigpipe_by_default();  // SIGPIPE never kills a rill process
    auto* rt = new detail::runtime_inner;
    rt->cfg = cfg;
    if (rt->cfg.worker_threads == 0) rt->cfg.worker_threads = detail::available_cpus();
    try {
        rt->pool = std::make_unique<detail::blocking_pool>(*rt);
        if (rt->cfg.enable_time || rt->cfg.start_paused) {
            if (rt->cfg.start_paused && rt->cfg.flavor != flavor::current_thread)
                throw std::invalid_argument("rill::builder::start_paused: only the current_thread runtime can be paused");
            const std::size_t shards = rt->cfg.flavor == flavor::multi_thread ? rt->cfg.worker_threads : 1;
            rt->time = std::make_unique<detail::time_driver>(shards, rt->cfg.start_paused);
        }
        if (rt->cfg.enable_io) rt->io = std::make_unique<detail::io_driver>();
        rt->sched = rt->cfg.flavor == flavor::multi_thread ? detail::make_multi_thread(*rt)
                                                            : detail::make_current_thread(*rt);
    } catch (...) {
        delete rt;
        throw;
    }
    inner_ = rt;
}

runtime& runtime::operator=(runtime&& o) noexcept {
    if (this != &o) {
        shutdown(std::nullopt, nullptr);
        inner_ = std::exchange(o.inner_, nullptr);
    }
    return *this;
}

runtime::~runtime() { shutdown(std::nullopt, nullptr); }

namespace {
// Stops everything and drops the runtime object's reference; true when the blocking
// work finished within `timeout`.
bool shut_down(detail::runtime_inner* rt, std::optional<std::chrono::nanoseconds> timeout) noexcept {
    rt->sched->shutdown();
    if (rt->io) rt->io->shutdown();  // sockets that outlive their tasks now fail fast
    const bool done = rt->pool->shutdown(timeout);
    detail::runtime_inner_unref(rt);
    return done;
}
}  // namespace

void runtime::shutdown(std::optional<std::chrono::nanoseconds> timeout, bool* ok) {
    detail::runtime_inner* rt = std::exchange(inner_, nullptr);
    if (rt == nullptr) return;
    rt->shut_down.store(true, std::memory_order_release);
    const detail::thread_context& c = detail::tls();
    const bool own_thread =
        c.runtime == rt && (c.blocking_thread || (c.worker != nullptr && rt->cfg.flavor == flavor::multi_thread));
    if (own_thread) {
        // Dropped from one of its own worker or blocking threads (by a task or a job):
        // joining the workers, or waiting for the blocking threads, would wait for this
        // very thread. Shut down on a helper thread instead, as shutdown_background does;
        // this thread's task or job runs on until it ends (the current_thread driver
        // handles its own drop in place). The helper takes over our reference.
        if (ok) *ok = false;
        try {
            std::thread([rt, timeout] { (void)shut_down(rt, timeout); }).detach();
            return;
        } catch (...) {
            std::fputs("rill: a runtime dropped from one of its own threads could not start the thread that "
                       "shuts it down\n",
                       stderr);
            std::terminate();
        }
    }
    const bool done = shut_down(rt, timeout);
    if (ok) *ok = done;
}

bool runtime::shutdown_timeout(std::chrono::nanoseconds timeout) {
    bool ok = true;
    shutdown(timeout, &ok);
    return ok;
}

void runtime::shutdown_background() { shutdown(std::chrono::nanoseconds{0}, nullptr); }

runtime::handle runtime::get_handle() const {
    detail::runtime_inner_ref(detail::live_runtime(inner_));
    return handle(inner_);
}

namespace {
runtime_metrics metrics_of(detail::runtime_inner* rt) {
    return runtime_metrics{rt->sched->num_workers(), rt->sched->num_alive_tasks(), rt->pool->num_threads(),
                           rt->pool->num_idle_threads(), rt->pool->queue_depth()};
}
}  // namespace

runtime_metrics runtime::metrics() const { return metrics_of(detail::live_runtime(inner_)); }
runtime_metrics runtime::handle::metrics() const { return metrics_of(detail::live_runtime(inner_)); }
const runtime_config& runtime::config() const { return detail::live_runtime(inner_)->cfg; }

runtime::handle runtime::handle::current() {
    detail::runtime_inner& rt = detail::current_runtime_or_throw();
    detail::runtime_inner_ref(&rt);
    return handle(&rt);
}

std::optional<runtime::handle> runtime::handle::try_current() {
    detail::runtime_inner* rt = detail::current_runtime();
    if (rt == nullptr) return std::nullopt;
    detail::runtime_inner_ref(rt);
    return handle(rt);
}

// --- main entry ------------------------------------------------------------------------

namespace {
template <class T>
int run_impl(builder& b, task<T> t) {
    try {
        runtime rt = b.build();
        if constexpr (std::is_void_v<T>) {
            rt.block_on(std::move(t));
            return 0;
        } else {
            return rt.block_on(std::move(t));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "Error: %s\n", e.what());
    } catch (...) {
        std::fputs("Error: unknown exception\n", stderr);
    }
    return 1;
}
}  // namespace

int run(builder b, task<int> t) { return run_impl(b, std::move(t)); }
int run(builder b, task<void> t) { return run_impl(b, std::move(t)); }

}  // namespace rill
