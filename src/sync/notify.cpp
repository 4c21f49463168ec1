// notify: a mutex-guarded FIFO of waiters (see notify.hpp for the semantics).
//
// A waiter is linked while state_ == waiting and how_ == none. notify_one() unlinks the
// first one, sets how_ = one and wakes its counted node after unlocking; notify_waiters()
// does the same for all with how_ = all and bumps waiters_calls_, which also completes
// waiters created before the call but not registered yet.
#include "rill/sync/notify.hpp"

#include "rill/detail/intrusive_list.hpp"

#include <array>
#include <vector>

namespace rill::sync {

notified::notified(notify& n) noexcept : notify_(&n) {
    std::lock_guard lock(n.mutex_);
    calls_at_creation_ = n.waiters_calls_;
}

notified::notified(notified&& o) noexcept
    : notify_(o.notify_), calls_at_creation_(o.calls_at_creation_) {
    if (o.state_ != waiting) {
        state_ = o.state_;
        how_ = o.how_;
        o.state_ = done;
        return;
    }
    // An enabled waiter moves: take its place in the list (or its notification) under
    // the lock, so a notify never reaches the moved-from object.
    std::lock_guard lock(notify_->mutex_);
    state_ = waiting;
    how_ = o.how_;
    waker_ = std::exchange(o.waker_, nullptr);
    if (how_ == none) {
        prev_ = o.prev_;
        next_ = o.next_;
        if (prev_) {
            prev_->next_ = this;
        } else {
            notify_->head_ = this;
        }
        if (next_) {
            next_->prev_ = this;
        } else {
            notify_->tail_ = this;
        }
        o.prev_ = o.next_ = nullptr;
    }
    o.state_ = done;
}

notified::~notified() {
    if (state_ != waiting) return;
    detail::wake_node* forward = nullptr;
    detail::wake_node* mine = nullptr;
    {
        std::lock_guard lock(notify_->mutex_);
        if (how_ == none) {
            notify_->unlink(this);
        } else if (how_ == one) {
            // Chosen by notify_one but never resumed: pass the notification on.
            forward = notify_->notify_one_locked();
        }
        mine = std::exchange(waker_, nullptr);
    }
    detail::drop_node(mine);
    if (forward) detail::wake_by_value(forward);
}

bool notified::enable() {
    if (state_ == done) return true;
    std::lock_guard lock(notify_->mutex_);
    if (state_ == waiting) return how_ != none;
    if (notify_->waiters_calls_ != calls_at_creation_) {
        state_ = done;  // notify_waiters() already covered us: ready
        how_ = all;
        return true;
    }
    if (notify_->permit_) {
        notify_->permit_ = false;
        state_ = done;
        how_ = one;
        return true;
    }
    notify_->push_back(this);
    state_ = waiting;
    return false;
}

bool notified::await_ready() {
    if (state_ == done) return true;
    std::lock_guard lock(notify_->mutex_);
    if (state_ == init) {
        if (notify_->waiters_calls_ != calls_at_creation_) {
            state_ = done;
            return true;
        }
        if (notify_->permit_) {
            notify_->permit_ = false;
            state_ = done;
            return true;
        }
        return false;
    }
    // waiting (enabled): ready once a notification picked us
    if (how_ != none) {
        state_ = done;
        return true;
    }
    return false;
}

bool notified::suspend(detail::wake_node* node) {
    std::unique_lock lock(notify_->mutex_);
    if (state_ == init) {
        if (notify_->waiters_calls_ != calls_at_creation_ || notify_->permit_) {
            if (notify_->waiters_calls_ == calls_at_creation_) notify_->permit_ = false;
            lock.unlock();
            state_ = done;
            detail::drop_node(node);
            return false;
        }
        notify_->push_back(this);
        state_ = waiting;
    } else if (how_ != none) {  // enabled and already notified
        lock.unlock();
        state_ = done;
        detail::drop_node(node);
        return false;
    }
    detail::wake_node* old = std::exchange(waker_, node);
    lock.unlock();
    detail::drop_node(old);
    return true;
}

void notify::push_back(sync::notified* w) noexcept {
    detail::list_push_back<&sync::notified::prev_, &sync::notified::next_>(head_, tail_, w);
}

void notify::unlink(sync::notified* w) noexcept {
    detail::list_unlink<&sync::notified::prev_, &sync::notified::next_>(head_, tail_, w);
}

detail::wake_node* notify::notify_one_locked() noexcept {
    sync::notified* w = head_;
    if (w == nullptr) {
        permit_ = true;
        return nullptr;
    }
    unlink(w);
    w->how_ = sync::notified::one;
    return std::exchange(w->waker_, nullptr);  // null if enabled but not awaited yet
}

void notify::notify_one() {
    detail::wake_node* n;
    {
        std::lock_guard lock(mutex_);
        n = notify_one_locked();
    }
    if (n) detail::wake_by_value(n);
}

void notify::notify_waiters() {
    std::vector<detail::wake_node*> nodes;
    {
        std::lock_guard lock(mutex_);
        ++waiters_calls_;
        while (sync::notified* w = head_) {
            unlink(w);
            w->how_ = sync::notified::all;
            if (detail::wake_node* n = std::exchange(w->waker_, nullptr)) nodes.push_back(n);
        }
    }
    for (detail::wake_node* n : nodes) detail::wake_by_value(n);
}

}  // namespace rill::sync
