#include "runtime/time/driver.hpp"

#include <array>
#include <utility>

#include "rill/time/instant.hpp"

namespace rill::detail {

time_driver::time_driver(std::size_t shards, bool start_paused)
    : base_(clock::now()), paused_(start_paused), shards_(new shard[shards ? shards : 1]),
      num_shards_(shards ? shards : 1) {}

namespace {
// Nanosecond counts are added saturating: the paused clock and the shifted real clock
// may be moved up to the far deadlines that saturated instants produce.
constexpr auto add_sat = rill::time::detail::saturating_add;
}  // namespace

time_driver::clock::time_point time_driver::now() const noexcept {
    if (paused_.load(std::memory_order_acquire))
        return base_ + std::chrono::nanoseconds(paused_at_ns_.load(std::memory_order_acquire));
    const std::int64_t shift = shift_ns_.load(std::memory_order_acquire);
    const clock::time_point real = clock::now();
    if (shift == 0) return real;
    return clock::time_point(clock::duration(add_sat(real.time_since_epoch().count(), shift)));
}

std::uint64_t time_driver::to_ms_ceil(clock::time_point t) const noexcept {
    if (t <= base_) return 0;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - base_).count();
    const std::uint64_t ms = static_cast<std::uint64_t>(ns / 1'000'000) + (ns % 1'000'000 != 0 ? 1 : 0);
    // A deadline in the clock's last partial millisecond (a saturated instant, about 292
    // years away) rounds down instead, so the clock never has to pass its end.
    return ms <= max_ms() ? ms : max_ms();
}

std::uint64_t time_driver::to_ms_floor(clock::time_point t) const noexcept {
    if (t <= base_) return 0;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - base_).count();
    return static_cast<std::uint64_t>(ns / 1'000'000);
}

void time_driver::pause() {
    if (paused_.load(std::memory_order_acquire)) return;
    paused_at_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now() - base_).count(),
                        std::memory_order_release);
    paused_.store(true, std::memory_order_release);
}

void time_driver::resume() {
    if (!paused_.load(std::memory_order_acquire)) return;
    // Real time continues from where the paused clock stands (as in Tokio): the clock
    // must not go back, and the wheels' elapsed time (driver milliseconds, already at the
    // paused time) must stay behind it. So from now on now() is the real clock shifted
    // by (paused time - real time), which may be negative if the paused clock lagged.
    const std::int64_t paused_ns =
        add_sat(base_.time_since_epoch().count(), paused_at_ns_.load(std::memory_order_acquire));
    shift_ns_.store(paused_ns - clock::now().time_since_epoch().count(), std::memory_order_release);
    paused_.store(false, std::memory_order_release);
}

void time_driver::advance(std::chrono::nanoseconds d) {
    // Saturates at the clock's end (base_ + paused offset must stay representable).
    const std::int64_t limit = max_offset_ns();
    std::int64_t cur = paused_at_ns_.load(std::memory_order_relaxed);
    std::int64_t next;
    do {
        next = add_sat(cur, d.count());
        if (next > limit) next = limit;
    } while (!paused_at_ns_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_relaxed));
}

void time_driver::publish_next(shard& s) noexcept {
    auto n = s.wheel.next_expiration();
    s.next.store(n ? *n : none, std::memory_order_seq_cst);  // seq_cst: see timer_added
}

bool time_driver::add(timer_entry* e, wake_node* waker, std::size_t shard_hint) {
    const std::size_t idx = shard_hint % num_shards_;
    shard& s = shards_[idx];
    std::lock_guard lock(s.mutex);
    if (!s.wheel.insert(e)) return false;
    e->waker_ = waker;
    e->shard_ = static_cast<std::uint32_t>(idx);
    e->driver_ = this;
    e->state_.store(timer_entry::registered, std::memory_order_release);
    publish_next(s);
    return true;
}

bool time_driver::rewake(timer_entry* e, wake_node* waker) {
    shard& s = shards_[e->shard_];
    wake_node* old;
    {
        std::lock_guard lock(s.mutex);
        if (e->state_.load(std::memory_order_relaxed) != timer_entry::registered) return false;
        old = std::exchange(e->waker_, waker);
    }
    if (old) node_release(old);
    return true;
}

void time_driver::remove(timer_entry* e) noexcept {
    if (e->state_.load(std::memory_order_acquire) == timer_entry::idle) return;
    shard& s = shards_[e->shard_];
    wake_node* w = nullptr;
    {
        std::lock_guard lock(s.mutex);
        if (e->state_.load(std::memory_order_relaxed) == timer_entry::registered) {
            s.wheel.remove(e);
            w = std::exchange(e->waker_, nullptr);
            publish_next(s);
        }
        e->state_.store(timer_entry::idle, std::memory_order_relaxed);
    }
    if (w) node_release(w);
}

std::size_t time_driver::process(std::uint64_t now_ms) {
    std::size_t fired = 0;
    for (std::size_t i = 0; i < num_shards_; ++i) {
        shard& s = shards_[i];
        if (s.next.load(std::memory_order_acquire) > now_ms) continue;
        bool more = true;
        while (more) {
            std::array<wake_node*, 32> batch;
            std::size_t n = 0;
            {
                std::lock_guard lock(s.mutex);
                more = !s.wheel.advance(now_ms, [&](timer_entry* e) {
                    // Take the waker before publishing `fired`: an owner that sees
                    // `fired` frees the entry without taking this lock (timer_unregister),
                    // so nothing may touch the entry after that store.
                    batch[n++] = std::exchange(e->waker_, nullptr);
                    e->state_.store(timer_entry::fired, std::memory_order_release);
                    return n < batch.size();
                });
                publish_next(s);
            }
            for (std::size_t k = 0; k < n; ++k) wake_by_value(batch[k]);
            fired += n;
        }
    }
    return fired;
}

std::uint64_t time_driver::next_deadline() const noexcept {
    std::uint64_t best = none;
    for (std::size_t i = 0; i < num_shards_; ++i) {
        std::uint64_t n = shards_[i].next.load(std::memory_order_seq_cst);
        if (n < best) best = n;
    }
    return best;
}

std::size_t time_driver::num_timers() const noexcept {
    std::size_t total = 0;
    for (std::size_t i = 0; i < num_shards_; ++i) {
        std::lock_guard lock(shards_[i].mutex);
        total += shards_[i].wheel.size();
    }
    return total;
}

}  // namespace rill::detail
