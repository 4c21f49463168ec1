// A worker's local run queue: a fixed ring of 256 tasks, pushed and popped by its
// owner, stolen from (half at a time) by other workers.
//
// Design (the scheme of Tokio's runtime/scheduler/multi_thread/queue.rs, written anew):
//   head_ packs two 32-bit positions: `steal` (first slot a stealer may still be copying)
//   and `real` (first slot not yet claimed). When no steal is in flight, steal == real.
//   tail_ is written only by the owner.
//   - push (owner): if tail - steal < capacity, write slot[tail] and publish tail
//     (release). When full and no steal is in flight, move half of the ring plus the new
//     task to the inject queue in one batch (claiming them with a CAS on head_).
//   - pop (owner): CAS real forward (and steal with it when they are equal).
//   - steal (thief): CAS real forward by half of what is there while keeping steal,
//     copy the claimed slots into its own ring, then CAS steal up to real. While a steal
//     is in flight (steal != real) other thieves back off and the owner cannot reuse
//     the claimed slots, because it checks fullness against steal.
// All positions wrap (u32 arithmetic). Slots are atomics used relaxed: tail_ (release)
// and head_ (acq_rel) order the slot contents.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/scheduler/inject.hpp"

namespace rill::detail {

class local_queue {
public:
    static constexpr std::uint32_t capacity = 256;
    static constexpr std::uint32_t mask = capacity - 1;

    /// Owner: pushes `h` at the back, spilling half the ring to `overflow` when full.
    void push_back(header* h, inject_queue& overflow) noexcept {
        for (;;) {
            std::uint64_t head = head_.load(std::memory_order_acquire);
            std::uint32_t steal = steal_of(head), real = real_of(head);
            std::uint32_t tail = tail_.load(std::memory_order_relaxed);
            if (tail - steal < capacity) {
                buffer_[tail & mask].store(h, std::memory_order_relaxed);
                tail_.store(tail + 1, std::memory_order_release);
                return;
            }
            if (steal != real) {
                // A thief is copying; it will free slots soon. Do not wait for it.
                overflow.push(h);
                return;
            }
            if (push_overflow(h, real, tail, overflow)) return;
            // Lost a race with a thief: retry.
        }
    }

    /// Owner: pops from the front.
    header* pop() noexcept {
        std::uint64_t head = head_.load(std::memory_order_acquire);
        for (;;) {
            std::uint32_t steal = steal_of(head), real = real_of(head);
            std::uint32_t tail = tail_.load(std::memory_order_relaxed);
            if (real == tail) return nullptr;
            std::uint32_t next_real = real + 1;
            std::uint64_t next = steal == real ? pack(next_real, next_real) : pack(steal, next_real);
            if (head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
                // Start fetching the header of the task after this one: a queue of many
                // tasks (1000 yielding tasks) misses the cache on every header otherwise.
                // The slot may be stale or stolen meanwhile; a prefetch never faults.
                if (next_real != tail) {
                    // Both lines of the header: the state word and the main wake node.
                    const char* p = reinterpret_cast<const char*>(buffer_[next_real & mask].load(std::memory_order_relaxed));
                    __builtin_prefetch(p, 1, 3);
                    __builtin_prefetch(p + 64, 1, 3);
                }
                return buffer_[real & mask].load(std::memory_order_relaxed);
            }
        }
    }

    /// Thief: moves half of this ring into `dst` (the thief's own, owner-side) and returns
    /// one of the stolen tasks to run now, or null.
    header* steal_into(local_queue& dst) noexcept {
        std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
        std::uint32_t dst_steal = steal_of(dst.head_.load(std::memory_order_acquire));
        if (dst_tail - dst_steal > capacity / 2) return nullptr;  // our ring is busy enough
        std::uint32_t n = steal_half(dst, dst_tail);
        if (n == 0) return nullptr;
        --n;
        header* ret = dst.buffer_[(dst_tail + n) & mask].load(std::memory_order_relaxed);
        if (n > 0) dst.tail_.store(dst_tail + n, std::memory_order_release);
        return ret;
    }

    /// Any thread: a racy size, for heuristics and the park check.
    std::uint32_t len() const noexcept {
        std::uint32_t real = real_of(head_.load(std::memory_order_acquire));
        return tail_.load(std::memory_order_acquire) - real;
    }
    bool empty() const noexcept { return len() == 0; }

private:
    static std::uint32_t steal_of(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v >> 32); }
    static std::uint32_t real_of(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v); }
    static std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
        return (static_cast<std::uint64_t>(steal) << 32) | real;
    }

    bool push_overflow(header* h, std::uint32_t head, std::uint32_t tail, inject_queue& overflow) noexcept {
        constexpr std::uint32_t take = capacity / 2;
        std::uint64_t prev = pack(head, head);
        if (!head_.compare_exchange_strong(prev, pack(head + take, head + take), std::memory_order_release,
                                           std::memory_order_relaxed))
            return false;
        (void)tail;
        header* first = buffer_[head & mask].load(std::memory_order_relaxed);
        header* last = first;
        for (std::uint32_t i = 1; i < take; ++i) {
            header* nx = buffer_[(head + i) & mask].load(std::memory_order_relaxed);
            last->queue_next_ = nx;
            last = nx;
        }
        last->queue_next_ = h;
        overflow.push_batch(first, h, take + 1);
        return true;
    }

    std::uint32_t steal_half(local_queue& dst, std::uint32_t dst_tail) noexcept {
        std::uint64_t prev = head_.load(std::memory_order_acquire);
        std::uint32_t first, n;
        std::uint64_t claimed;
        for (;;) {
            std::uint32_t steal = steal_of(prev), real = real_of(prev);
            if (steal != real) return 0;  // another thief is at work
            std::uint32_t tail = tail_.load(std::memory_order_acquire);
            n = tail - real;
            n -= n / 2;
            if (n == 0) return 0;
            claimed = pack(steal, real + n);
            if (head_.compare_exchange_weak(prev, claimed, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
                first = real;
                break;
            }
        }
        for (std::uint32_t i = 0; i < n; ++i) {
            header* t = buffer_[(first + i) & mask].load(std::memory_order_relaxed);
            dst.buffer_[(dst_tail + i) & mask].store(t, std::memory_order_relaxed);
        }
        // Release the claimed slots: steal catches up with real.
        prev = claimed;
        for (;;) {
            std::uint32_t real = real_of(prev);
            if (head_.compare_exchange_weak(prev, pack(real, real), std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                return n;
        }
    }

    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::uint32_t> tail_{0};
    alignas(64) std::atomic<header*> buffer_[capacity]{};
};

}  // namespace rill::detail
