#include "runtime/context.hpp"

#include "runtime/runtime_inner.hpp"

#include <atomic>
#include <new>
#include <stdexcept>

#include "rill/runtime/spawn.hpp"
#include "runtime/task/frame_alloc_fast.hpp"

namespace rill::detail {

constinit thread_local thread_context t_ctx;

context_guard::context_guard(scheduler_base* s, void* worker, runtime_inner* rt) noexcept : saved_(t_ctx) {
    t_ctx.scheduler = s;
    t_ctx.worker = worker;
    t_ctx.runtime = rt;
    t_ctx.current = nullptr;
    t_ctx.budget = coop_budget;
    t_ctx.runtime_lease = 0;  // an outer lease stays in saved_ and comes back with it
    t_ctx.lifo_slot = nullptr;
    t_ctx.ring = nullptr;
    t_ctx.alive = nullptr;
}

context_guard::~context_guard() {
    // Hand back what is left of the lease: the refs are real, the runtime counts them.
    if (t_ctx.runtime_lease != 0 && t_ctx.runtime != nullptr) {
        const std::uint32_t n = t_ctx.runtime_lease;
        t_ctx.runtime_lease = 0;
        if (t_ctx.runtime->refs.fetch_sub(n, std::memory_order_acq_rel) == n) delete t_ctx.runtime;
    }
    t_ctx = saved_;
}

void lease_runtime_ref_slow(runtime_inner* rt) noexcept {
    if (t_ctx.runtime == rt && t_ctx.worker != nullptr) {  // a leasing thread, lease used up
        rt->refs.fetch_add(lease_batch, std::memory_order_relaxed);
        t_ctx.runtime_lease = lease_batch - 1;
        return;
    }
    rt->refs.fetch_add(1, std::memory_order_relaxed);
}

void lease_runtime_unref_slow(runtime_inner* rt) noexcept {
    if (rt->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rt;
}

namespace {
std::atomic<std::uint64_t> g_next_id{1};
}  // namespace

// Ids come in per-thread blocks of 1024, so spawning never contends on one counter.
std::uint64_t next_task_id() noexcept {
    constexpr std::uint64_t block = 1024;
    thread_local std::uint64_t next = 0, end = 0;
    if (next == end) {
        next = g_next_id.fetch_add(block, std::memory_order_relaxed);
        end = next + block;
    }
    return next++;
}

// Inline here: spawn_coro's hot path.
inline void submit_spawn_inline(scheduler_base* s, header* h) noexcept {
    h->id_ = next_task_id();
    if (s->runtime_ != nullptr) lease_runtime_ref(s->runtime_);
    s->spawn_fn(s, h);
}

void submit_spawn(scheduler_base* s, header* h) noexcept { submit_spawn_inline(s, h); }

scheduler_base* current_scheduler() noexcept { return t_ctx.scheduler; }

header* spawn_coro(scheduler_base* s, std::coroutine_handle<> root, wake_node** root_node,
                   const task_vtable* vt, std::source_location loc, std::uint64_t extra_state) {
    if (s == nullptr) {
        s = t_ctx.scheduler;
        if (s == nullptr) [[unlikely]]
            throw std::logic_error("rill::spawn called outside a runtime (use runtime::handle from other threads)");
    }
    auto* cell = ::new (frames::allocate_small(sizeof(coro_cell)))
        coro_cell(vt, s, new_task_state | extra_state, root, root_node);
    cell->location_ = loc;
    submit_spawn_inline(s, cell);
    return cell;
}

runtime_inner* current_runtime() noexcept { return t_ctx.runtime; }

runtime_inner& current_runtime_or_throw() {
    if (t_ctx.runtime == nullptr)
        throw std::logic_error("rill: there is no runtime on this thread (call it from a task, or "
                               "through runtime::handle)");
    return *t_ctx.runtime;
}

header* current_task() noexcept { return t_ctx.current; }

bool coop_proceed() noexcept {
    if (t_ctx.current == nullptr) return true;  // outside a task poll: unconstrained
    if (t_ctx.budget == 0) return false;
    --t_ctx.budget;
    return true;
}

bool coop_has_budget() noexcept { return t_ctx.current == nullptr || t_ctx.budget > 0; }

}  // namespace rill::detail
