// Running, completing, cancelling and joining tasks: the state machine of
// task_header.hpp, shared by every scheduler and the blocking pool.
#include <atomic>
#include <cassert>

#include "rill/detail/cells.hpp"
#include "runtime/context.hpp"
#include "runtime/task/frame_alloc_fast.hpp"

namespace rill::detail {

// free_cell lives here, next to complete(), which inlines it.
namespace {
// Drops the inbox's refs of every queued branch node (the task is finished or freed).
void release_inbox(task_aux* a) noexcept {
    if (a->inbox_.load(std::memory_order_acquire) == nullptr) return;
    branch_node* n = a->inbox_.exchange(nullptr, std::memory_order_acquire);
    while (n) {
        branch_node* next = n->inbox_next_;
        branch_node_unref(n);
        n = next;
    }
}
}  // namespace

void destroy_fused_root(header* h) noexcept {
    h->main_.resume_ = nullptr;
    void* frame = reinterpret_cast<char*>(h) + fused_prefix;
    // The frame's operator delete leaves its memory to the cell (frame_deallocate). Saved
    // and restored: destroying this frame may destroy another fused task's.
    void* saved = std::exchange(frames::t_cache.fuse_skip, frame);
    std::coroutine_handle<>::from_address(frame).destroy();
    frames::t_cache.fuse_skip = saved;
}

// `s`: the cell's scheduler (h->sched(), passed by callers that have it at hand).
[[gnu::always_inline]] inline void free_cell_inline(header* h, scheduler_base* s) noexcept {
    if (task_aux* a = h->aux()) [[unlikely]] {
        release_inbox(a);
        delete a;
    }
    const std::uint64_t st = h->state_.load(std::memory_order_relaxed);
    if (is_coro_state(st)) [[likely]] {
        destroy_coro_root(h, st);
        if (const unsigned fused = fused_class_of(st)) {
            frames::deallocate_small(h, std::size_t{fused} * frames::granule);  // the block's class
        } else {
            frames::deallocate_small(h, sizeof(coro_cell));
        }
    } else {
        h->vtable()->dealloc(h);
    }
    // Last: this may free the runtime (and s) when nothing else holds it.
    if (s != nullptr && s->runtime_ != nullptr) lease_runtime_unref(s->runtime_);
}

void free_cell(header* h) noexcept { free_cell_inline(h, h->sched()); }

namespace {

inline std::uint64_t refs_of(std::uint64_t s) { return s >> state::ref_shift; }

// Drops the join waker's ref (the waker is owned by the caller per the protocol).
void drop_join_waker(header* h) noexcept {
    if (task_aux* a = h->aux())
        if (wake_node* w = std::exchange(a->join_waker_, nullptr)) node_release(w);
}

// Drops the output of a finished task that nobody will read; `st` is a state word loaded
// after it finished. A coroutine cell whose root did not fail holds nothing but its frame:
// destroying that is the whole job, without a call through the vtable.
[[gnu::noinline]] void drop_output_slow(header* h) noexcept {
    std::exception_ptr e = h->vtable()->drop_output(h);
    if (e) report_unobserved(h, std::move(e));
}
inline void drop_output_of(header* h, std::uint64_t st) noexcept {
    if ((st & (state::coro | state::failed)) == state::coro) [[likely]] {
        destroy_coro_root(h, st);
        return;
    }
    drop_output_slow(h);
}

// complete() when others hold refs or a join handle exists: the COMPLETE transition.
[[gnu::noinline]] void complete_shared(header* h, bool cancelled, std::uint64_t cur) noexcept {
    std::uint64_t next;
    do {
        next = (cur & ~state::running) | state::complete;
        if (!cancelled) next &= ~state::cancelled;
    } while (!h->state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                              std::memory_order_acquire));
    if (!(next & state::join_interest)) {
        drop_output_of(h, next);  // nobody will read it
    } else if (next & state::join_waker) {
        wake_by_ref(h->aux()->join_waker_);  // JOIN_WAKER: the aux block exists
        std::uint64_t prev = h->state_.fetch_and(~state::join_waker, std::memory_order_acq_rel);
        if (!(prev & state::join_interest)) drop_join_waker(h);
    }
    if (scheduler_base* s = h->sched()) s->release_fn(s, h);
    ref_dec(h);
}

// The task finished (value, exception, or cancelled when `cancelled`). The caller holds
// RUNNING and the run ref, which this consumes.
void complete(header* h, bool cancelled) noexcept {
    const std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    if ((cur >> state::ref_shift) != 1 || (cur & state::join_interest)) {
        complete_shared(h, cancelled, cur);
        return;
    }
    // Ours is the only reference (no join handle, waker, queue entry or owned list):
    // nobody can observe the transition, so skip it and free the task directly.
    scheduler_base* const s = h->site_->sched;  // loaded once: calls below are opaque
    drop_output_of(h, cur);
    if (s != nullptr) {
        thread_context& c = tls();
        if (!(cur & (state::bound | state::uncounted)) && s == c.scheduler && c.alive != nullptr) [[likely]] {
            // Never bound, completing on a worker of its scheduler: releasing it is
            // counting it out of this worker's alive tasks (what release_fn would do).
            c.alive->store(c.alive->load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        } else {
            s->release_fn(s, h);
        }
    }
    free_cell_inline(h, s);
}

void cancel_running(header* h) noexcept {
    h->vtable()->cancel(h);
    complete(h, true);
}

// True when the caller's ref is the only one and no join handle exists: a task spawned
// and detached that has not run yet (once it has waited, the owned list holds a ref too).
// Every other party that may touch the state word holds a ref (a waker, a queue entry,
// the owned list, a join handle), so no other thread can reach the task, and the caller
// may change the state word with a plain store instead of a read-modify-write. The
// acquire load that saw this value synchronises with the RMWs that dropped the others.
inline bool sole_owner(std::uint64_t s) noexcept {
    return refs_of(s) == 1 && !(s & state::join_interest);
}

}  // namespace

void run_task(header* h) noexcept {
    std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    std::uint64_t next;
    if (sole_owner(cur) && !(cur & (state::running | state::complete))) [[likely]] {
        next = (cur & ~state::notified) | state::running;
        h->state_.store(next, std::memory_order_relaxed);
    } else {
        for (;;) {
            if (cur & (state::running | state::complete)) {
                // Already finished (cancelled by shutdown while queued): drop the queue's ref.
                ref_dec(h);
                return;
            }
            next = (cur & ~state::notified) | state::running;
            if (h->state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                                std::memory_order_acquire))
                break;
        }
    }
    if (next & state::cancelled) {
        cancel_running(h);
        return;
    }
    ctx_begin_poll(h);
    // A coro cell is polled inline, without the vtable's indirect call (its CORO and
    // FUSED bits never change, so `next` has them).
    bool done;
    if (is_coro_state(next)) [[likely]] {
        done = poll_coro_cell(h, next);
    } else {
        done = h->vtable()->poll(h);
    }
    const bool yielded = ctx_end_poll();
    if (done) {
        complete(h, false);
        return;
    }
    if (!(next & state::bound)) {
        // About to wait for the first time: let shutdown find it from now on.
        if (scheduler_base* s = h->sched(); !s->bind_fn(s, h)) {
            cancel_running(h);
            return;
        }
        h->state_.fetch_or(state::bound, std::memory_order_relaxed);
    }
    cur = h->state_.load(std::memory_order_acquire);
    for (;;) {
        if (cur & state::cancelled) {
            cancel_running(h);
            return;
        }
        next = cur & ~state::running;
        const bool again = (cur & state::notified) || yielded;
        if (again) {
            next |= state::notified;  // the run ref becomes the queue's
        } else {
            next -= state::ref_one;
        }
        if (h->state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
            if (again) {
                scheduler_base* s = h->sched();
                s->schedule_fn(s, h, true);
            } else if (refs_of(next) == 0) {
                free_cell(h);
            }
            return;
        }
    }
}

namespace {
// Finishes a task that will not run on: with `e` as its output when `e` is set and the
// task was not aborted (a task someone runs then keeps its own outcome), else cancelled
// (a running task is only marked, and ends when its poll returns).
void finish_unrun(header* h, std::exception_ptr e) noexcept {
    std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    for (;;) {
        if (cur & state::complete) return;
        const bool fail = e && !(cur & state::cancelled);
        if (fail && (cur & state::running)) return;
        const bool claim = !(cur & state::running);
        std::uint64_t next = fail ? cur : cur | state::cancelled;
        if (claim) next |= state::running;
        if (h->state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
            if (claim) {
                ref_inc(h);  // complete() consumes a run ref
                if (fail) {
                    h->vtable()->fail(h, std::move(e));
                    complete(h, false);
                } else {
                    cancel_running(h);
                }
            }
            return;
        }
    }
}
}  // namespace

void shutdown_task(header* h) noexcept { finish_unrun(h, nullptr); }

void fail_task(header* h, std::exception_ptr e) noexcept {
    finish_unrun(h, h->vtable()->fail != nullptr ? std::move(e) : nullptr);
}

bool join_register(header* h, wake_node* waiter) {
    std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    if (cur & state::complete) return false;
    assert(!(cur & state::join_waker));
    task_aux* a = ensure_aux(h);  // may throw std::bad_alloc: nothing registered yet
    node_acquire(waiter);
    a->join_waker_ = waiter;
    for (;;) {
        if (cur & state::complete) {
            drop_join_waker(h);
            return false;
        }
        if (h->state_.compare_exchange_weak(cur, cur | state::join_waker, std::memory_order_acq_rel,
                                            std::memory_order_acquire))
            return true;
    }
}

void join_unregister(header* h) noexcept {
    std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    for (;;) {
        if (!(cur & state::join_waker) || (cur & state::complete)) return;  // completer owns it
        if (h->state_.compare_exchange_weak(cur, cur & ~state::join_waker, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
            drop_join_waker(h);
            return;
        }
    }
}

void join_handle_drop(header* h, bool output_taken) noexcept {
    std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    // `spawn(t).detach()` on a worker: the task waits in this worker's LIFO slot and the
    // slot's ref and ours are the only two. Only this thread can reach it, so no RMW.
    if (header* const* slot = tls().lifo_slot; slot != nullptr && *slot == h &&
                                               refs_of(cur) == 2 && !(cur & state::complete)) {
        h->state_.store((cur & ~state::join_interest) - state::ref_one, std::memory_order_relaxed);
        return;
    }
    // The task has not completed, so someone else still holds a ref (its queue entry, its
    // runner, or the owned list): drop interest and our ref in one CAS.
    while (!(cur & state::complete)) {
        if (h->state_.compare_exchange_weak(cur, (cur & ~state::join_interest) - state::ref_one,
                                            std::memory_order_acq_rel, std::memory_order_acquire))
            return;
    }
    std::uint64_t prev = h->state_.fetch_and(~state::join_interest, std::memory_order_acq_rel);
    if (prev & state::complete) {
        if (!output_taken) {
            std::exception_ptr e = h->vtable()->drop_output(h);
            if (e && !(prev & state::cancelled)) report_unobserved(h, std::move(e));
        }
        // The completer clears JOIN_WAKER after waking; whoever is second drops the waker.
        if (!(prev & state::join_waker)) drop_join_waker(h);
    }
    ref_dec(h);
}

void join_abort(header* h) noexcept {
    std::uint64_t cur = h->state_.load(std::memory_order_acquire);
    for (;;) {
        if (cur & (state::complete | state::cancelled)) return;
        std::uint64_t next = cur | state::cancelled;
        bool submit = false;
        if (cur & state::running) {
            next |= state::notified;  // the runner sees CANCELLED when the poll returns
        } else if (!(cur & state::notified)) {
            next |= state::notified;
            next += state::ref_one;  // the run queue's ref
            submit = true;
        }
        if (h->state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
            if (submit) h->sched()->schedule_fn(h->sched(), h, false);
            return;
        }
    }
}

void report_unobserved(header* h, std::exception_ptr e) noexcept {
    if (scheduler_base* s = h->sched()) s->report_fn(s, h, std::move(e));
}

}  // namespace rill::detail
