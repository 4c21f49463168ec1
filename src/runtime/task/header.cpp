// Reference counting and the wake protocol of task headers (see task_header.hpp).
#include <atomic>
#include <stdexcept>

#include "rill/detail/task_header.hpp"
#include "rill/waker.hpp"

namespace rill::detail {

namespace {
std::atomic<std::uint64_t> g_next_id{1};

inline std::uint64_t refs_of(std::uint64_t s) { return s >> state::ref_shift; }
}  // namespace

std::uint64_t next_task_id() noexcept { return g_next_id.fetch_add(1, std::memory_order_relaxed); }

void ref_dec(header* h) noexcept {
    std::uint64_t prev = h->state_.fetch_sub(state::ref_one, std::memory_order_acq_rel);
    if (refs_of(prev) == 1) h->vtable_->dealloc(h);
}

namespace {

// Marks the task notified. `owns_ref`: the caller hands over one ref.
void notify_task(header* t, bool owns_ref) noexcept {
    if (t->sched_ == nullptr) {  // mock task: the woken flag is all there is
        if (owns_ref) ref_dec(t);
        return;
    }
    std::uint64_t cur = t->state_.load(std::memory_order_acquire);
    for (;;) {
        std::uint64_t next;
        bool submit = false;
        if (cur & state::running) {
            next = cur | state::notified;
            if (owns_ref) next -= state::ref_one;  // the runner holds a ref: never the last
        } else if (cur & (state::complete | state::notified)) {
            if (!owns_ref) return;
            next = cur - state::ref_one;
        } else {
            next = cur | state::notified;
            if (!owns_ref) next += state::ref_one;  // the run queue's ref
            submit = true;
        }
        if (t->state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
            if (submit) {
                t->sched_->schedule_fn(t->sched_, t, false);
            } else if (refs_of(next) == 0) {
                t->vtable_->dealloc(t);
            }
            return;
        }
    }
}

}  // namespace

void wake_by_value(wake_node* n) noexcept {
    header* t = n->task_;
    if (n->woken_.exchange(true, std::memory_order_acq_rel)) {
        ref_dec(t);
        return;
    }
    notify_task(t, true);
}

void wake_by_ref(wake_node* n) noexcept {
    if (n->woken_.exchange(true, std::memory_order_acq_rel)) return;
    notify_task(n->task_, false);
}

void user_node_release(user_wake_node* n) noexcept {
    if (n->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete n;
}

void user_node_wake(user_wake_node* n) noexcept {
    std::uint8_t expected = user_wake_node::armed;
    if (n->state_.compare_exchange_strong(expected, user_wake_node::fired, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        wake_by_ref(n->target_);
    }
}

void throw_not_in_task() {
    throw std::logic_error("rill: this awaitable must be awaited inside a rill task");
}

}  // namespace rill::detail

namespace rill::detail {
void yield_wake(wake_node* n) noexcept { wake_by_ref(n); }
}  // namespace rill::detail
