// The header every spawned task starts with, its state word and its wake node.
//
// Design block (the contract the schedulers, join handles and wakers share):
//
// State word (one atomic u64, every transition one read-modify-write):
//   bit 0 RUNNING        a worker owns the frame and is resuming it
//   bit 1 COMPLETE       the task finished (value, exception or cancelled); frame is done
//   bit 2 NOTIFIED       the task is in a run queue, or must go back to one after this run
//   bit 3 CANCELLED      abort requested; with COMPLETE: the outcome is "cancelled"
//   bit 4 JOIN_INTEREST  a join_handle exists
//   bit 5 JOIN_WAKER     join_waker_ holds a waker that completion must wake
//   bit 6 BOUND          the task is in its scheduler's owned list (see below)
//   bit 7 UNCOUNTED      not counted in the alive tasks (a block_on root)
//   bit 8 CORO           a coroutine cell (set at creation, never changed)
//   bits 9..15 FUSED     a coroutine cell in one block with its root frame: the block's
//                        size class + 1 (0: the frame is a separate block); constant
//   bit 16 FAILED        a coroutine cell whose root ended with an exception (set by the
//                        root promise, on the running thread): without it, dropping the
//                        output is destroying the frame, with no call through the vtable
//   bits 17.. refcount   one per: owned-list entry, join handle, queue entry/run, waker
//
// Layout (64 bytes, docs/design/task_model.md): the vtable, scheduler and spawn location
// are one pointer to an interned task_site; the id (48 bits) sits in the padding of the
// main wake node; the join waker and the branch inbox live in a task_aux block that is
// allocated the first time either is needed.
//
// Owned list: a task enters its scheduler's owned list only when it is about to wait
// for the first time (bind_fn, called by the runner before the idle transition). A task
// is otherwise always in a run queue or running, where shutdown finds it by draining the
// queues; so the many tasks that finish in their first poll never touch the list's lock.
//
// Lifetime: a cell holds one reference on its runtime from spawn until it is freed, so
// whatever still holds the cell (a waker on another thread, a join handle) can wake it,
// abort it or drop it during or after shutdown without reaching a freed scheduler.
//
// Who owns what:
//   - The frame (the coroutine) is touched only by the thread that holds RUNNING, or,
//     once COMPLETE is set, by the holder of the output (the join handle, or the
//     completing worker when there is no join handle).
//   - join_waker_: written by the join handle while JOIN_WAKER is clear and COMPLETE is
//     clear; once COMPLETE is set with JOIN_WAKER set, the completing side wakes it and
//     clears JOIN_WAKER, and whichever of (completer clearing JOIN_WAKER, handle clearing
//     JOIN_INTEREST) comes second drops the waker.
//   - main_ (the wake node of the task's main line): resume_ is written by the running
//     thread when a leaf suspends; woken_ is set by wakers, cleared by the runner just
//     before it resumes resume_. A wake therefore resumes the coroutine that registered
//     it, exactly once, and never a coroutine that suspended somewhere else since.
//
// Wake protocol (wake_by_value, the caller holds one ref):
//   RUNNING                -> set NOTIFIED, drop the ref (the runner reschedules)
//   COMPLETE or NOTIFIED   -> drop the ref
//   idle                   -> set NOTIFIED, the ref moves into the run queue
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <source_location>
#include <type_traits>

#include "rill/detail/frame_alloc.hpp"

namespace rill::detail {

struct header;
struct scheduler_base;
struct runtime_inner;

namespace state {
inline constexpr std::uint64_t running = 1u << 0;
inline constexpr std::uint64_t complete = 1u << 1;
inline constexpr std::uint64_t notified = 1u << 2;
inline constexpr std::uint64_t cancelled = 1u << 3;
inline constexpr std::uint64_t join_interest = 1u << 4;
inline constexpr std::uint64_t join_waker = 1u << 5;
inline constexpr std::uint64_t bound = 1u << 6;  // in the owned list (set once, by the runner)
// Not counted in the alive tasks (a block_on root, which Tokio does not count either: it
// runs outside the scheduler there). Set at creation, never changed.
inline constexpr std::uint64_t uncounted = 1u << 7;
inline constexpr std::uint64_t coro = 1u << 8;  // a coroutine cell (constant)
inline constexpr std::uint64_t fused_shift = 9;  // size class + 1 of a fused block (constant)
inline constexpr std::uint64_t fused_mask = std::uint64_t{0x7f} << fused_shift;
// The root coroutine ended with an exception (its promise sets it; see mark_root_failed).
inline constexpr std::uint64_t failed = std::uint64_t{1} << 16;
inline constexpr std::uint64_t ref_shift = 17;
inline constexpr std::uint64_t ref_one = std::uint64_t{1} << ref_shift;
inline constexpr std::uint64_t flag_mask = ref_one - 1;
}  // namespace state

/// A place inside a task that can be pending on its own: the task's main line (the node
/// embedded in the header), or one branch of a combinator (a branch_node).
/// The main node finds its task from its own address (it sits at a fixed offset in the
/// header); a branch node records it (node_task).
struct wake_node {
    std::coroutine_handle<> resume_{};  // the coroutine to resume when woken
    std::atomic<bool> woken_{false};    // set by a waker, cleared by the runner
    bool branch_ = false;               // a branch_node (heap, ref-counted)
    // The padding holds the task id in a main node (header::id()); unused in a branch.
    std::uint16_t id_hi_ = 0;
    std::uint32_t id_lo_ = 0;
};
static_assert(sizeof(wake_node) == 16);

/// The node of one branch of a combinator (timeout, select, join...). Heap-allocated and
/// ref-counted: the combinator holds one ref, each registration in a primitive holds one,
/// the task's inbox holds one while the node is queued. A destroyed branch marks it
/// dead: a wake that arrives later is queued and dropped, never resumed.
struct branch_node : wake_node, frame_allocated {
    header* task_ = nullptr;             // the task this node belongs to
    std::atomic<std::uint32_t> refs_{1};
    bool dead_ = false;                  // owner thread only
    bool relay_ = false;                 // a relay_node (see below)
    branch_node* inbox_next_ = nullptr;  // link in the task's inbox (or a relay's deferred list)
    // The node of the coroutine that owns this branch's combinator (null: none). The
    // runner walks these links to find a detached relay above a woken node (a gate).
    // Valid while the node is not dead (a live branch's owner is alive).
    wake_node* parent_ = nullptr;
};

/// The stable wake node of a long-lived coroutine that may be awaited, abandoned and
/// awaited again (a task awaited by reference inside a select branch, a stream whose
/// next() lost a select). Everything inside that coroutine registers with the relay,
/// never with the node of whoever awaits it now; the relay's parent_ is re-pointed at
/// each await (attach) and cleared when that await is abandoned (detach). While
/// detached, the runner does not resume anything below it: woken nodes whose parent
/// chain reaches a detached relay are parked in its deferred_ list (with their inbox
/// ref) and requeued at the next attach. See docs/design/composition.md.
/// Owner thread only, except the inherited atomics.
struct relay_node : branch_node {
    bool detached_ = true;
    branch_node* deferred_ = nullptr;  // parked woken nodes (linked by inbox_next_)
};

/// A new relay of `task`, attached below `parent` (one ref: the owner's).
relay_node* relay_create(header* task, wake_node* parent);
/// Re-attaches `r` below `parent` and requeues its deferred nodes into the task's inbox
/// (the task runs them at its next poll).
void relay_attach(relay_node* r, wake_node* parent) noexcept;
/// Re-attaches `r` below `parent` and resumes its deferred nodes inline, now.
void relay_attach_inline(relay_node* r, wake_node* parent);
/// The await that drove `r` was abandoned: park wakes from now on.
inline void relay_detach(relay_node* r) noexcept {
    r->detached_ = true;
    r->parent_ = nullptr;
}
/// The owner is gone (its coroutine frame was destroyed first): kills `r`, drops its
/// deferred nodes and the owner's ref.
void relay_release(relay_node* r) noexcept;

/// Operations that differ between coroutine tasks, blocking tasks and mock tasks.
struct task_vtable {
    /// Runs the task once (the caller holds RUNNING). Returns true when it completed.
    bool (*poll)(header*);
    /// Destroys the future without running it further (the caller holds RUNNING).
    void (*cancel)(header*);
    /// Destroys the output of a completed task (nobody will read it). If the output is an
    /// exception that nobody observed, returns it so it can be reported.
    std::exception_ptr (*drop_output)(header*);
    /// Frees the cell (refcount reached zero). Null for a coro_cell, which free_cell
    /// frees itself (one layout for every T: no indirect call on the hot path).
    void (*dealloc)(header*);
    /// The output slot: a detail::result<T>* for the task's T.
    void* (*output)(header*);
    /// Stores `e` as the output of a task that will never run (the caller holds RUNNING),
    /// destroying the work unrun. Null where no such path exists (coroutine and mock cells).
    void (*fail)(header*, std::exception_ptr);
};

/// Base of the schedulers. Function pointers instead of virtual calls, as in Tokio's
/// task vtable; the indirection is the same, the layout is explicit.
struct scheduler_base {
    /// Takes a new task (refs: owned list + join handle + queue): records it as owned and
    /// queues it, or cancels it at once when the scheduler is shut down.
    void (*spawn_fn)(scheduler_base*, header*);
    /// Queues a notified task; takes over one ref. `yield` puts it at the back.
    void (*schedule_fn)(scheduler_base*, header*, bool yield);
    /// Called by the runner when a task is about to wait for the first time (it leaves
    /// every run queue): records it as owned so shutdown can find it. False when the
    /// scheduler is closed: the runner cancels the task instead.
    bool (*bind_fn)(scheduler_base*, header*);
    /// Called once when a task completes: removes it from the owned list if bound, and
    /// counts it out of the alive tasks.
    void (*release_fn)(scheduler_base*, header*);
    /// Reports an exception that escaped a task nobody joins.
    void (*report_fn)(scheduler_base*, header*, std::exception_ptr);
    /// The runtime this scheduler belongs to. Every task cell holds a reference on it from
    /// spawn until the cell is freed (submit_spawn / free_cell), as a Tokio task holds
    /// its scheduler handle: a wake racing shutdown, or from a thread outside the runtime,
    /// and a join handle dropped after the runtime, never reach a freed scheduler.
    runtime_inner* runtime_ = nullptr;

    /// The task sites interned for this scheduler (intern_site); `epoch_` tells this
    /// scheduler from an earlier one at the same address in the per-thread site caches.
    scheduler_base() noexcept;
    ~scheduler_base();
    scheduler_base(const scheduler_base&) = delete;
    scheduler_base& operator=(const scheduler_base&) = delete;
    std::uint64_t epoch_;
    std::atomic<void*> sites_{nullptr};  // site table (src/runtime/task/site.cpp), made on first use
};

/// What a task shares with every task spawned from the same place onto the same
/// scheduler: interned per scheduler (intern_site), freed with it.
struct task_site {
    const task_vtable* vtable;
    scheduler_base* sched;  // null: a mock task outside any runtime
    std::source_location location;
};

/// The parts of a task few tasks use, allocated on first use (ensure_aux): the join
/// waker (a join handle awaited before the task finished) and the inbox of woken branch
/// nodes (a combinator inside the task). Freed with the cell.
struct task_aux : frame_allocated {
    std::atomic<branch_node*> inbox_{nullptr};  // woken branch nodes (MPSC, LIFO order)
    wake_node* join_waker_ = nullptr;           // a counted waker (see protocol above)
};

struct alignas(16) header : frame_allocated {
    bool bound() const noexcept { return state_.load(std::memory_order_relaxed) & state::bound; }
    bool counted() const noexcept { return !(state_.load(std::memory_order_relaxed) & state::uncounted); }
    const task_vtable* vtable() const noexcept { return site_->vtable; }
    scheduler_base* sched() const noexcept { return site_->sched; }
    std::source_location location() const noexcept { return site_->location; }
    std::uint64_t id() const noexcept { return (std::uint64_t{main_.id_hi_} << 32) | main_.id_lo_; }
    void set_id(std::uint64_t id) noexcept {
        main_.id_hi_ = static_cast<std::uint16_t>(id >> 32);
        main_.id_lo_ = static_cast<std::uint32_t>(id);
    }
    /// The aux block, or null when nothing needed it yet.
    task_aux* aux() const noexcept { return aux_.load(std::memory_order_acquire); }

    std::atomic<std::uint64_t> state_;
    header* queue_next_ = nullptr;  // run queue / inject queue link (owned by the queue)
    const task_site* site_;
    header* owned_prev_ = nullptr;  // owned-tasks list links (guarded by its shard lock)
    header* owned_next_ = this;     // `this`: not in the list
    wake_node main_;
    std::atomic<task_aux*> aux_{nullptr};

    header(const task_site* site, std::uint64_t initial_state) noexcept : state_(initial_state), site_(site) {}
};
static_assert(sizeof(header) == 64, "docs/design/task_model.md counts these bytes");
static_assert(std::is_standard_layout_v<header>, "node_task takes offsetof(header, main_)");

/// The task a wake node belongs to.
inline header* node_task(wake_node* n) noexcept {
    if (n->branch_) return static_cast<branch_node*>(n)->task_;
    return reinterpret_cast<header*>(reinterpret_cast<char*>(n) - offsetof(header, main_));
}

/// Called by a task's promise when its coroutine ends with an exception. `n` is the
/// promise's node and `awaited` whether anyone awaits the coroutine: a root (spawned,
/// never awaited, running on its task's main node) marks its task FAILED, so that
/// dropping the output of a task that did not fail needs no call through the vtable.
inline void mark_root_failed(wake_node* n, bool awaited) noexcept {
    if (!awaited && n != nullptr && !n->branch_) node_task(n)->state_.fetch_or(state::failed, std::memory_order_relaxed);
}

/// The aux block of `h`, allocating it if needed (any thread). Throws std::bad_alloc.
task_aux* ensure_aux(header* h);

/// The interned site of (vt, s, loc) (s may be null). Throws std::bad_alloc.
const task_site* intern_site(scheduler_base* s, const task_vtable* vt, std::source_location loc);

// --- reference counting and waking (out of line: src/runtime/task/header.cpp) -------

inline void ref_inc(header* h) noexcept { h->state_.fetch_add(state::ref_one, std::memory_order_relaxed); }
/// Drops one ref; frees the cell when it was the last.
void ref_dec(header* h) noexcept;
/// Frees a cell whose last ref is gone, then drops its reference on its runtime.
void free_cell(header* h) noexcept;
/// Takes a registration ref of a node: one task ref (plus one node ref for a branch).
inline void node_acquire(wake_node* n) noexcept {
    ref_inc(node_task(n));
    if (n->branch_) static_cast<branch_node*>(n)->refs_.fetch_add(1, std::memory_order_relaxed);
}
/// Drops a registration ref taken by node_acquire.
void node_release(wake_node* n) noexcept;
/// Drops one ref of a branch node only.
void branch_node_unref(branch_node* n) noexcept;
/// Resumes the woken branch nodes queued in `aux`, in wake order (run_woken's second half).
void run_inbox(task_aux* aux);
/// Resumes every woken node of `h` (main line, then branches in wake order). Called by
/// the thread that holds the task (RUNNING, or the mock's owner). One pass: what is
/// woken during it (a yield, a wake from this very task) sets NOTIFIED and runs in the
/// next poll, after the tasks already queued. Inline: the main line is the hot path.
/// woken_ is cleared with a load and a plain store, not an exchange: only the runner (one
/// thread at a time) clears it, wakers only set it, so a wake landing between the two
/// finds it set and is absorbed exactly as if it had come before (it resumes this same
/// suspension). The locked exchange was the most expensive instruction of a yield.
inline void run_woken(header* h) {
    if (h->main_.woken_.load(std::memory_order_acquire)) {
        h->main_.woken_.store(false, std::memory_order_relaxed);
        h->main_.resume_.resume();
    }
    if (task_aux* const aux = h->aux()) [[unlikely]] run_inbox(aux);
}
/// Wakes a node, consuming one registration ref (node_acquire).
void wake_by_value(wake_node* n) noexcept;
/// Wakes a node without consuming a ref.
void wake_by_ref(wake_node* n) noexcept;

/// Throws std::logic_error: a rill awaitable was awaited outside a rill task.
[[noreturn]] void throw_not_in_task();

/// A fresh task id (ids start at 1; the header keeps 48 bits, so one recurs only after 2^48 spawns).
std::uint64_t next_task_id() noexcept;
/// Gives a new cell of scheduler `s` its id and its runtime reference, and hands it to
/// s->spawn_fn (one out-of-line call for the three).
void submit_spawn(scheduler_base* s, header* h) noexcept;

}  // namespace rill::detail
