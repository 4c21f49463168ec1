#include "runtime/task/owned_tasks.hpp"

#include "rill/detail/cells.hpp"

namespace rill::detail {

owned_tasks::owned_tasks(std::size_t shards) {
    std::size_t n = 1;
    while (n < shards) n <<= 1;
    shards_ = std::make_unique<shard[]>(n);
    mask_ = n - 1;
}

bool owned_tasks::insert(header* h) noexcept {
    shard& s = shard_of(h);
    std::lock_guard lock(s.mutex);
    if (closed_.load(std::memory_order_acquire)) {
        h->owned_next_ = h;
        return false;
    }
    ref_inc(h);  // the list's ref
    h->owned_prev_ = nullptr;
    h->owned_next_ = s.head;
    if (s.head) s.head->owned_prev_ = h;
    s.head = h;
    count_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void owned_tasks::remove(header* h) noexcept {
    {
        shard& s = shard_of(h);
        std::lock_guard lock(s.mutex);
        if (h->owned_next_ == h) return;  // not in the set (closed, or already removed)
        if (h->owned_prev_) {
            h->owned_prev_->owned_next_ = h->owned_next_;
        } else {
            s.head = h->owned_next_;
        }
        if (h->owned_next_) h->owned_next_->owned_prev_ = h->owned_prev_;
        h->owned_prev_ = nullptr;
        h->owned_next_ = h;
        count_.fetch_sub(1, std::memory_order_relaxed);
    }
    ref_dec(h);
}

void owned_tasks::close_and_shutdown_all() noexcept {
    closed_.store(true, std::memory_order_release);
    for (std::size_t i = 0; i <= mask_; ++i) {
        shard& s = shards_[i];
        for (;;) {
            header* h;
            {
                std::lock_guard lock(s.mutex);
                h = s.head;
                if (h == nullptr) break;
                s.head = h->owned_next_;
                if (s.head) s.head->owned_prev_ = nullptr;
                h->owned_prev_ = nullptr;
                h->owned_next_ = h;
                count_.fetch_sub(1, std::memory_order_relaxed);
            }
            // Destructors run here, outside the lock: they may touch other tasks.
            shutdown_task(h);
            ref_dec(h);  // the list's ref
        }
    }
}

}  // namespace rill::detail
