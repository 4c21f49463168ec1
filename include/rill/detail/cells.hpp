// The cells behind spawned tasks: a header followed by the future or function.
//
// coro_cell: a spawned coroutine. Its output stays in the root promise until the
// join handle takes it; the frame is destroyed as soon as nobody can read the output
// (taken, handle dropped, or completion with no handle) or when the task is cancelled.
// blocking_cell<F>: a spawn_blocking function and the slot for its result.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "rill/detail/result.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::detail {

// Harness functions shared by all cells (src/runtime/task/harness.cpp).
/// Runs a notified task once on this thread (the caller gives the queue's ref).
void run_task(header* h) noexcept;
/// Cancels a task during runtime shutdown (the caller keeps its own ref).
void shutdown_task(header* h) noexcept;
/// As shutdown_task, but a task whose vtable has `fail` completes with `e` as its
/// output (its join handle rethrows it) instead of as cancelled.
void fail_task(header* h, std::exception_ptr e) noexcept;
/// Join-handle side of the protocol.
/// False: already complete. Throws std::bad_alloc (nothing registered then).
bool join_register(header* h, wake_node* waiter);
void join_unregister(header* h) noexcept;                    // awaiter destroyed while waiting
void join_handle_drop(header* h, bool output_taken) noexcept;
void join_abort(header* h) noexcept;
/// Reports an exception that no join handle will observe.
void report_unobserved(header* h, std::exception_ptr e) noexcept;

/// A spawned coroutine whose frame is a block of its own: the header and the root handle.
/// One layout for every T (the vtable, coro_vtable<T>, knows T), so spawning allocates and
/// queues it out of line. A *fused* cell (spawn(rill::call(f, args...))) is a bare header
/// with the root frame right behind it in the same block (state::fused_mask); its root
/// is at a fixed offset and main_.resume_ is null once the frame is destroyed.
struct coro_cell final : header {
    std::coroutine_handle<> root_;

    coro_cell(const task_site* site, std::uint64_t initial_state, std::coroutine_handle<> root) noexcept
        : header(site, initial_state), root_(root) {}
};
static_assert(std::is_trivially_destructible_v<coro_cell>, "free_cell releases a coro_cell without running a destructor");

/// True for a coroutine cell (coro_cell or fused), from its state word.
inline bool is_coro_state(std::uint64_t st) noexcept { return st & state::coro; }
inline bool is_coro_cell(const header* h) noexcept { return is_coro_state(h->state_.load(std::memory_order_relaxed)); }

/// The fused block's size class + 1, or 0 for a cell whose frame is a block of its own.
/// The bits never change, so any load of the state word gives them.
inline unsigned fused_class_of(std::uint64_t st) noexcept {
    return static_cast<unsigned>((st & state::fused_mask) >> state::fused_shift);
}
inline unsigned fused_class(const header* h) noexcept { return fused_class_of(h->state_.load(std::memory_order_relaxed)); }

static_assert(sizeof(header) == fused_prefix, "the frame allocator reserves the header's size in front of a fused frame");

/// The root frame of a fused cell; null once it was destroyed.
inline std::coroutine_handle<> fused_root(header* h) noexcept {
    if (h->main_.resume_ == nullptr) return {};
    return std::coroutine_handle<>::from_address(reinterpret_cast<char*>(h) + fused_prefix);
}

/// The root frame of a coroutine cell whose state word reads `st`; null once it was
/// destroyed.
inline std::coroutine_handle<> coro_root(header* h, std::uint64_t st) noexcept {
    if (fused_class_of(st) != 0) return fused_root(h);
    return static_cast<coro_cell*>(h)->root_;
}
inline std::coroutine_handle<> coro_root(header* h) noexcept { return coro_root(h, h->state_.load(std::memory_order_relaxed)); }

/// destroy_coro_root for a fused cell whose frame is alive. Out of line: it marks the
/// frame so that its operator delete leaves the block to the cell (thread_cache::fuse_skip).
void destroy_fused_root(header* h) noexcept;

/// Destroys the root frame of a coroutine cell whose state word reads `st`, if the frame
/// is still alive (the caller holds RUNNING, or the output).
inline void destroy_coro_root(header* h, std::uint64_t st) noexcept {
    if (fused_class_of(st) != 0) {
        if (h->main_.resume_ != nullptr) destroy_fused_root(h);  // null: already destroyed
    } else if (auto r = std::exchange(static_cast<coro_cell*>(h)->root_, {})) {
        r.destroy();
    }
}
inline void destroy_coro_root(header* h) noexcept { destroy_coro_root(h, h->state_.load(std::memory_order_relaxed)); }

/// Polls a coroutine cell whose state word reads `st` once (the caller holds RUNNING):
/// resumes what was woken; true when the root frame has finished.
inline bool poll_coro_cell(header* h, std::uint64_t st) {
    run_woken(h);
    return coro_root(h, st).done();
}
inline bool poll_coro_cell(header* h) {
    return poll_coro_cell(h, h->state_.load(std::memory_order_relaxed));
}

/// The task_vtable of a coroutine cell whose root frame is a task<T>.
template <class T>
struct coro_vtable {
    using handle_type = std::coroutine_handle<task_promise<T>>;
    static handle_type root(header* h) noexcept { return handle_type::from_address(coro_root(h).address()); }

    static void cancel(header* h) { destroy_coro_root(h); }
    static std::exception_ptr drop_output(header* h) {
        const std::uint64_t st = h->state_.load(std::memory_order_relaxed);
        const std::coroutine_handle<> r = coro_root(h, st);
        std::exception_ptr e;
        if (r) {
            auto& out = handle_type::from_address(r.address()).promise().result_;
            if (out.has_exception()) e = out.exception();
            destroy_coro_root(h, st);
        }
        return e;
    }
    static void* output(header* h) { return &root(h).promise().result_; }

    // dealloc is null: free_cell frees a coroutine cell itself.
    static constexpr task_vtable vtable{&poll_coro_cell, &cancel, &drop_output, nullptr, &output, nullptr};
};

/// Spawns the coroutine `root` (its promise's wake-node slot is `root_node`, its
/// vtable `vt`; `extra_state`: state bits beyond a new task's, state::uncounted for a
/// block_on root) on `s`, or on the calling thread's scheduler when `s` is null: allocates
/// its cell, gives it an id, `loc` and a runtime reference, and queues it. Returns the
/// cell, with one ref for the join handle. Throws std::logic_error when `s` is null and
/// the thread has no runtime, and std::bad_alloc; then nothing was taken from `root`.
header* spawn_coro(scheduler_base* s, std::coroutine_handle<> root, wake_node** root_node,
                   const task_vtable* vt, std::source_location loc, std::uint64_t extra_state);

/// What a fused spawn's call made: the root frame and its promise's wake-node slot.
struct fused_call_result {
    std::coroutine_handle<> root;
    wake_node** root_node;
};
using fused_call_fn = fused_call_result (*)(void* call);

/// spawn(rill::call(f, args...)): on `s` (null: the calling thread's runtime), calls
/// `invoke(call)` with the frame allocator set to put 64 bytes in front of the next frame
/// it allocates, and builds the cell there, so cell and root frame are one block (see
/// docs/design/task_model.md); when some other frame took that block, the cell is a
/// block of its own, as spawn_coro. Returns the cell with one ref for the join handle.
/// Throws what the call throws (nothing is spawned), std::logic_error outside a runtime
/// (the call is not made), and std::bad_alloc.
header* spawn_fused(scheduler_base* s, void* call, fused_call_fn invoke, const task_vtable* vt,
                    std::source_location loc);

template <class F>
using blocking_result_t = std::invoke_result_t<F&>;

template <class F>
struct blocking_cell final : header {
    using R = blocking_result_t<F>;
    std::optional<F> fn_;
    result<R> out_;

    blocking_cell(F&& f, const task_site* site, std::uint64_t initial_state)
        : header(site, initial_state), fn_(std::move(f)) {}

    static bool poll(header* h) {
        auto* c = static_cast<blocking_cell*>(h);
        try {
            if constexpr (std::is_void_v<R>) {
                (*c->fn_)();
                c->out_.set_void();
            } else {
                c->out_.set_value((*c->fn_)());
            }
        } catch (...) {
            c->out_.set_exception(std::current_exception());
        }
        c->fn_.reset();
        return true;
    }
    static void cancel(header* h) { static_cast<blocking_cell*>(h)->fn_.reset(); }
    static std::exception_ptr drop_output(header* h) {
        auto* c = static_cast<blocking_cell*>(h);
        std::exception_ptr e;
        if (c->out_.has_exception()) e = c->out_.exception();
        c->out_.reset();
        return e;
    }
    static void dealloc(header* h) { delete static_cast<blocking_cell*>(h); }
    static void* output(header* h) { return &static_cast<blocking_cell*>(h)->out_; }
    static void fail(header* h, std::exception_ptr e) {
        auto* c = static_cast<blocking_cell*>(h);
        c->fn_.reset();
        c->out_.set_exception(std::move(e));
    }

    static constexpr task_vtable vtable{&poll, &cancel, &drop_output, &dealloc, &output, &fail};
};

}  // namespace rill::detail
