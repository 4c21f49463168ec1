// cancellation_token's tree (see include/rill/sync/cancellation_token.hpp for the design).
#include "rill/sync/cancellation_token.hpp"

#include <memory>
#include <mutex>
#include <vector>

namespace rill::sync::detail_ct {

struct node {
    std::atomic<bool> cancelled{false};
    std::atomic<std::size_t> handles{1};
    std::shared_ptr<std::mutex> tree;  // one per tree, shared by every node in it
    // Guarded by *tree:
    node* parent = nullptr;
    node* first_child = nullptr;
    node* prev_sibling = nullptr;
    node* next_sibling = nullptr;
    waiter* waiters = nullptr;  // intrusive, unordered
};

namespace {

void link_child(node* parent, node* c) noexcept {
    c->parent = parent;
    c->prev_sibling = nullptr;
    c->next_sibling = parent->first_child;
    if (parent->first_child) parent->first_child->prev_sibling = c;
    parent->first_child = c;
}

void unlink_from_parent(node* c) noexcept {
    node* p = c->parent;
    if (p == nullptr) return;
    if (c->prev_sibling) {
        c->prev_sibling->next_sibling = c->next_sibling;
    } else {
        p->first_child = c->next_sibling;
    }
    if (c->next_sibling) c->next_sibling->prev_sibling = c->prev_sibling;
    c->parent = c->prev_sibling = c->next_sibling = nullptr;
}

}  // namespace

node* new_root() {
    auto* n = new node();
    n->tree = std::make_shared<std::mutex>();
    return n;
}

node* new_child(node* parent) {
    auto* c = new node();
    c->tree = parent->tree;
    std::lock_guard lock(*parent->tree);
    if (parent->cancelled.load(std::memory_order_relaxed)) {
        c->cancelled.store(true, std::memory_order_relaxed);  // born cancelled, not linked
    } else {
        link_child(parent, c);
    }
    return c;
}

void add_handle(node* n) noexcept { n->handles.fetch_add(1, std::memory_order_relaxed); }

void drop_handle(node* n) noexcept {
    if (n->handles.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    {
        // The last handle: leave the tree; the children move up to our parent (or
        // become roots), so cancelling an ancestor still reaches them.
        std::lock_guard lock(*n->tree);
        node* p = n->parent;
        unlink_from_parent(n);
        while (node* c = n->first_child) {
            unlink_from_parent(c);
            if (p != nullptr) link_child(p, c);
        }
        // No waiter can be left: each holds a handle.
    }
    delete n;
}

bool is_cancelled(const node* n) noexcept { return n->cancelled.load(std::memory_order_acquire); }

void cancel(node* root) noexcept {
    if (root->cancelled.load(std::memory_order_acquire)) return;
    std::vector<rill::detail::wake_node*> wakes;
    {
        std::lock_guard lock(*root->tree);
        if (root->cancelled.load(std::memory_order_relaxed)) return;
        std::vector<node*> stack{root};
        while (!stack.empty()) {
            node* n = stack.back();
            stack.pop_back();
            n->cancelled.store(true, std::memory_order_release);
            while (waiter* w = n->waiters) {
                n->waiters = w->next_;
                if (w->next_) w->next_->prev_ = nullptr;
                w->prev_ = w->next_ = nullptr;
                w->fired_ = true;
                if (w->waker_) wakes.push_back(std::exchange(w->waker_, nullptr));
            }
            // A cancelled node keeps no children: they are cancelled now, and a child
            // made later starts cancelled.
            while (node* c = n->first_child) {
                unlink_from_parent(c);
                if (!c->cancelled.load(std::memory_order_relaxed)) stack.push_back(c);
            }
        }
    }
    for (rill::detail::wake_node* w : wakes) rill::detail::wake_by_value(w);
}

bool register_waiter(node* n, waiter* w, rill::detail::wake_node* waker) noexcept {
    {
        std::lock_guard lock(*n->tree);
        if (!n->cancelled.load(std::memory_order_relaxed)) {
            w->waker_ = waker;
            w->fired_ = false;
            w->prev_ = nullptr;
            w->next_ = n->waiters;
            if (n->waiters) n->waiters->prev_ = w;
            n->waiters = w;
            return true;
        }
    }
    rill::detail::drop_node(waker);
    return false;
}

void unregister_waiter(node* n, waiter* w) noexcept {
    rill::detail::wake_node* mine = nullptr;
    {
        std::lock_guard lock(*n->tree);
        if (!w->fired_) {
            if (w->prev_) {
                w->prev_->next_ = w->next_;
            } else {
                n->waiters = w->next_;
            }
            if (w->next_) w->next_->prev_ = w->prev_;
            w->prev_ = w->next_ = nullptr;
        }
        mine = std::exchange(w->waker_, nullptr);
    }
    rill::detail::drop_node(mine);
}

}  // namespace rill::sync::detail_ct
