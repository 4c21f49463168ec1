// barrier: a mutex-guarded list of this generation's waiters (see barrier.hpp).
#include "rill/sync/barrier.hpp"

#include <vector>

namespace rill::sync {

bool barrier::arrive(wait_awaiter* w) {
    std::vector<rill::detail::wake_node*> wakes;
    {
        std::lock_guard lock(mutex_);
        if (++arrived_ < n_) {
            rill::detail::node_acquire(w->wake_node_);
            w->waker_ = w->wake_node_;
            w->prev_ = nullptr;
            w->next_ = head_;
            if (head_) head_->prev_ = w;
            head_ = w;
            w->queued_ = true;
            return true;
        }
        // The last arrival: release this generation and start the next one.
        arrived_ = 0;
        wakes.reserve(n_ - 1);
        while (wait_awaiter* o = head_) {
            head_ = o->next_;
            o->prev_ = o->next_ = nullptr;
            o->released_ = true;
            if (o->waker_) wakes.push_back(std::exchange(o->waker_, nullptr));
        }
    }
    w->leader_ = true;
    for (rill::detail::wake_node* n : wakes) rill::detail::wake_by_value(n);
    return false;
}

void barrier::withdraw(wait_awaiter* w) noexcept {
    rill::detail::wake_node* mine = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (!w->released_) {
            if (w->prev_) {
                w->prev_->next_ = w->next_;
            } else {
                head_ = w->next_;
            }
            if (w->next_) w->next_->prev_ = w->prev_;
            w->prev_ = w->next_ = nullptr;
        }
        mine = std::exchange(w->waker_, nullptr);
    }
    rill::detail::drop_node(mine);
}

}  // namespace rill::sync
