#include "runtime/context.hpp"

#include "runtime/runtime_inner.hpp"

#include <atomic>
#include <new>
#include <stdexcept>

#include "rill/runtime/spawn.hpp"
#include "runtime/task/frame_alloc_fast.hpp"
#include "runtime/task/site.hpp"

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
    h->set_id(next_task_id());
    if (s->runtime_ != nullptr) lease_runtime_ref(s->runtime_);
    s->spawn_fn(s, h);
}

void submit_spawn(scheduler_base* s, header* h) noexcept { submit_spawn_inline(s, h); }

scheduler_base* current_scheduler() noexcept { return t_ctx.scheduler; }

namespace {
scheduler_base* spawn_target(scheduler_base* s) {
    if (s == nullptr) {
        s = t_ctx.scheduler;
        if (s == nullptr) [[unlikely]]
            throw std::logic_error("rill::spawn called outside a runtime (use runtime::handle from other threads)");
    }
    return s;
}

// Starts a new coroutine cell `h` on `s`: its main node is woken on the root frame, which
// registers with it; then it gets its id and is queued.
inline header* start_coro_cell(scheduler_base* s, header* h, std::coroutine_handle<> root,
                               wake_node** root_node) noexcept {
    *root_node = &h->main_;
    h->main_.resume_ = root;
    h->main_.woken_.store(true, std::memory_order_relaxed);
    submit_spawn_inline(s, h);
    return h;
}

// Spawns `root` in a coroutine cell of its own (the frame is another block). Throws
// std::bad_alloc, with nothing taken from `root`.
inline header* spawn_coro_cell(scheduler_base* s, const task_site* site, std::coroutine_handle<> root,
                               wake_node** root_node, std::uint64_t extra_state) {
    auto* cell = ::new (frames::allocate_small(sizeof(coro_cell)))
        coro_cell(site, new_task_state | state::coro | extra_state, root);
    return start_coro_cell(s, cell, root, root_node);
}
}  // namespace

header* spawn_coro(scheduler_base* s, std::coroutine_handle<> root, wake_node** root_node,
                   const task_vtable* vt, std::source_location loc, std::uint64_t extra_state) {
    s = spawn_target(s);
    return spawn_coro_cell(s, sites::lookup(s, vt, loc), root, root_node, extra_state);
}

header* spawn_fused(scheduler_base* s, void* call, fused_call_fn invoke, const task_vtable* vt,
                    std::source_location loc) {
    s = spawn_target(s);
    const task_site* site = sites::lookup(s, vt, loc);
    frames::thread_cache& tc = frames::t_cache;
    fused_call_result made;
    char* block = nullptr;
    unsigned cls = 0;
    if (tc.fuse_armed || tc.fuse_block != nullptr) [[unlikely]] {
        // A call that spawns while it is being spawned (a plain function, not a
        // coroutine): the inner spawn gets two blocks, the outer one's state is untouched.
        made = invoke(call);
    } else {
        tc.fuse_armed = true;
        try {
            made = invoke(call);
        } catch (...) {
            tc.fuse_armed = false;
            // The call threw after allocating (a parameter's copy): the frame freed its
            // part of the block; the prefix is given back here.
            if (void* b = std::exchange(tc.fuse_block, nullptr)) frames::deallocate_small(b, fused_prefix);
            throw;
        }
        tc.fuse_armed = false;
        block = static_cast<char*>(std::exchange(tc.fuse_block, nullptr));
        cls = tc.fuse_cls;
        if (block != nullptr && block + fused_prefix != made.root.address()) [[unlikely]] {
            // Some other frame took the block (a callable that makes another coroutine
            // before its task): that frame frees its own part when it dies; the prefix
            // goes back now (both parts are blocks of their own size classes).
            frames::deallocate_small(block, fused_prefix);
            block = nullptr;
        }
    }
    if (block != nullptr) [[likely]] {
        const std::uint64_t fused_bits = std::uint64_t{cls + 1} << state::fused_shift;
        return start_coro_cell(s, ::new (block) header(site, new_task_state | state::coro | fused_bits), made.root,
                               made.root_node);
    }
    try {
        return spawn_coro_cell(s, site, made.root, made.root_node, 0);
    } catch (...) {
        made.root.destroy();  // the frame is ours: nothing else holds it
        throw;
    }
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
