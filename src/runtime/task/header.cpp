// Reference counting and the wake protocol of task headers (see task_header.hpp).
#include <atomic>
#include <stdexcept>

#include "rill/detail/task_header.hpp"
#include "rill/waker.hpp"
#include "runtime/context.hpp"
#include "runtime/runtime_inner.hpp"

namespace rill::detail {

namespace {
inline std::uint64_t refs_of(std::uint64_t s) { return s >> state::ref_shift; }
}  // namespace

void ref_dec(header* h) noexcept {
    std::uint64_t prev = h->state_.fetch_sub(state::ref_one, std::memory_order_acq_rel);
    if (refs_of(prev) == 1) free_cell(h);
}

void branch_node_unref(branch_node* n) noexcept {
    if (n->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // No virtual destructor: delete through the real type, so the sized operator delete
    // returns the block to its own size class (a relay is larger).
    if (n->relay_) {
        delete static_cast<relay_node*>(n);
    } else {
        delete n;
    }
}

task_aux* ensure_aux(header* h) {
    task_aux* a = h->aux_.load(std::memory_order_acquire);
    if (a != nullptr) [[likely]] return a;
    auto* fresh = new task_aux;
    if (h->aux_.compare_exchange_strong(a, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) return fresh;
    delete fresh;  // another thread installed one first
    return a;
}

void node_release(wake_node* n) noexcept {
    header* t = node_task(n);
    if (n->branch_) branch_node_unref(static_cast<branch_node*>(n));
    ref_dec(t);
}

namespace {
// The aux block exists: whoever made the branch node made it (ensure_aux).
void push_inbox(header* t, branch_node* n) noexcept {
    std::atomic<branch_node*>& inbox = t->aux()->inbox_;
    branch_node* head = inbox.load(std::memory_order_relaxed);
    do {
        n->inbox_next_ = head;
    } while (!inbox.compare_exchange_weak(head, n, std::memory_order_release, std::memory_order_relaxed));
}
}  // namespace

namespace {

// Marks the task notified. `owns_ref`: the caller hands over one ref.
void notify_task(header* t, bool owns_ref) noexcept {
    scheduler_base* const s = t->sched();
    if (s == nullptr) {  // mock task: the woken flag is all there is
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
                s->schedule_fn(s, t, false);
            } else if (refs_of(next) == 0) {
                free_cell(t);
            }
            return;
        }
    }
}

}  // namespace

namespace {

// The nearest detached relay on the parent chain of `n` (itself included), or null.
relay_node* closed_gate(branch_node* n) noexcept {
    wake_node* p = n;
    while (p != nullptr && p->branch_) {
        auto* b = static_cast<branch_node*>(p);
        if (b->relay_ && static_cast<relay_node*>(b)->detached_) return static_cast<relay_node*>(b);
        p = b->parent_;
    }
    return nullptr;
}

// Runs one woken branch node taken from the inbox (its inbox ref is ours): skips a dead
// one (destroyed by an earlier resume in this pass), parks one below a detached relay.
void run_branch_node(branch_node* n) {
    if (!n->dead_) {
        if (relay_node* gate = closed_gate(n)) {
            n->inbox_next_ = gate->deferred_;  // the ref moves into the deferred list
            gate->deferred_ = n;
            return;
        }
        if (n->woken_.load(std::memory_order_acquire)) {  // load + store: see run_woken
            n->woken_.store(false, std::memory_order_relaxed);
            n->resume_.resume();
        }
    }
    branch_node_unref(n);
}

}  // namespace

void run_inbox(task_aux* aux) {
    if (aux->inbox_.load(std::memory_order_acquire) == nullptr) return;
    branch_node* list = aux->inbox_.exchange(nullptr, std::memory_order_acquire);
    // The inbox is LIFO: reverse it so branches resume in wake order.
    branch_node* fifo = nullptr;
    while (list) {
        branch_node* next = list->inbox_next_;
        list->inbox_next_ = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        branch_node* n = fifo;
        fifo = n->inbox_next_;
        run_branch_node(n);
    }
}

relay_node* relay_create(header* task, wake_node* parent) {
    ensure_aux(task);  // its wakes go through the inbox
    auto* r = new relay_node;
    r->task_ = task;
    r->branch_ = true;
    r->relay_ = true;
    r->parent_ = parent;
    r->detached_ = false;
    return r;
}

namespace {
branch_node* take_deferred(relay_node* r) noexcept {
    branch_node* list = std::exchange(r->deferred_, nullptr);
    // The list is LIFO: reverse it so the nodes run in the order they were parked.
    branch_node* fifo = nullptr;
    while (list) {
        branch_node* next = list->inbox_next_;
        list->inbox_next_ = fifo;
        fifo = list;
        list = next;
    }
    return fifo;
}
}  // namespace

void relay_attach(relay_node* r, wake_node* parent) noexcept {
    r->parent_ = parent;
    r->detached_ = false;
    branch_node* fifo = take_deferred(r);
    if (fifo == nullptr) return;
    header* t = r->task_;
    while (fifo) {
        branch_node* n = fifo;
        fifo = n->inbox_next_;
        push_inbox(t, n);  // the parked inbox ref moves back into the inbox
    }
    notify_task(t, false);
}

void relay_attach_inline(relay_node* r, wake_node* parent) {
    r->parent_ = parent;
    r->detached_ = false;
    branch_node* fifo = take_deferred(r);
    while (fifo) {
        branch_node* n = fifo;
        fifo = n->inbox_next_;
        run_branch_node(n);
    }
}

void relay_release(relay_node* r) noexcept {
    r->dead_ = true;
    r->detached_ = true;
    r->parent_ = nullptr;
    branch_node* list = std::exchange(r->deferred_, nullptr);
    while (list) {
        branch_node* next = list->inbox_next_;
        branch_node_unref(list);
        list = next;
    }
    branch_node_unref(r);
}

void wake_by_value(wake_node* n) noexcept {
    header* t = node_task(n);
    if (n->woken_.exchange(true, std::memory_order_acq_rel)) {
        node_release(n);
        return;
    }
    // A branch node's ref moves into the inbox; the task ref goes to notify_task.
    if (n->branch_) push_inbox(t, static_cast<branch_node*>(n));
    notify_task(t, true);
}

void wake_by_ref(wake_node* n) noexcept {
    if (n->woken_.exchange(true, std::memory_order_acq_rel)) return;
    header* t = node_task(n);
    if (n->branch_) {
        static_cast<branch_node*>(n)->refs_.fetch_add(1, std::memory_order_relaxed);
        push_inbox(t, static_cast<branch_node*>(n));
    }
    notify_task(t, false);
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

void throw_task_reawait() {
    throw std::logic_error(
        "rill: a task abandoned mid-await can be awaited again only if it was awaited by reference inside a "
        "select/join branch, from the same rill task");
}

void throw_not_in_task() {
    throw std::logic_error("rill: this awaitable must be awaited inside a rill task");
}

}  // namespace rill::detail

namespace rill::detail {
void yield_wake(wake_node* n) noexcept {
    thread_context& c = tls();
    if (!n->branch_ && c.current == node_task(n)) {
        // The task yields from its main line while this thread polls it: nobody else can
        // run it, so mark the node and let run_task requeue the task, without the locked
        // exchange and state CAS of a wake.
        n->woken_.store(true, std::memory_order_release);
        c.yielded = true;
        return;
    }
    wake_by_ref(n);
}
}  // namespace rill::detail
