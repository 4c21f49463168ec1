// The time driver: sharded timer wheels and the runtime clock.
//
// Shards: one wheel + mutex per worker (one for current_thread). A sleep registers in
// the shard of the worker it runs on, so registration and cancellation are uncontended
// unless the task has migrated; each shard publishes its next expiration in an atomic so
// a parking worker can compute its timeout without locks. Firing: any worker that
// processes timers (before parking, and every event_interval ticks) advances every shard
// whose next expiration has passed, under that shard's lock, collecting the wakers in
// batches of 32 and waking them after unlocking (DESIGN §4: schedule after releasing).
// See docs/design/timer_wheel.md for why shards and not one global wheel.
//
// Clock: milliseconds since the runtime started (`base_`). Deadlines round up to the
// next millisecond and fire when now_ms >= deadline_ms, so a sleep never ends early.
// Paused: now() is base_ + paused_at_ns_, which only advance() (or auto-advance) moves.
// Resumed after a pause: now() is the real clock + shift_ns_, so the clock continues
// from the paused time and never goes back (the wheels' elapsed ms stay behind it).
// pause()/resume() are called from the runtime's one thread (current_thread only).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>

#include "rill/detail/timer_entry.hpp"
#include "runtime/time/wheel.hpp"

namespace rill::detail {

class time_driver {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();

    time_driver(std::size_t shards, bool start_paused);

    // --- clock ------------------------------------------------------------------------
    clock::time_point now() const noexcept;
    std::uint64_t now_ms() const noexcept { return to_ms_floor(now()); }
    std::uint64_t to_ms_ceil(clock::time_point t) const noexcept;
    std::uint64_t to_ms_floor(clock::time_point t) const noexcept;
    clock::time_point from_ms(std::uint64_t ms) const noexcept { return base_ + std::chrono::milliseconds(ms); }
    /// The largest offset from base_ the clock can represent, in nanoseconds.
    std::int64_t max_offset_ns() const noexcept {
        return std::numeric_limits<std::int64_t>::max() - base_.time_since_epoch().count();
    }
    /// The last whole millisecond the clock can represent (to_ms_ceil never exceeds it).
    std::uint64_t max_ms() const noexcept { return static_cast<std::uint64_t>(max_offset_ns()) / 1'000'000; }
    bool paused() const noexcept { return paused_.load(std::memory_order_acquire); }
    void pause();
    void resume();
    /// Moves the paused clock forward by `d` (whole ms are used for timers).
    void advance(std::chrono::nanoseconds d);

    // --- timers -------------------------------------------------------------------------
    /// Registers `e` (deadline_ms_ set) with its counted waker. Returns false if the
    /// deadline already passed: nothing is registered and the caller keeps `waker`.
    bool add(timer_entry* e, wake_node* waker, std::size_t shard_hint);
    /// Replaces the waker of a registered entry (the same sleep awaited again).
    /// Returns false if it is no longer registered (it fired): the caller keeps `waker`.
    bool rewake(timer_entry* e, wake_node* waker);
    /// Withdraws `e` if registered; drops its waker. After it returns, `e` will not be
    /// woken by this driver.
    void remove(timer_entry* e) noexcept;
    /// Fires every timer due at `now_ms` (shards with nothing due are skipped without
    /// their lock). Returns how many fired.
    std::size_t process(std::uint64_t now_ms);
    /// Fires every timer due now.
    std::size_t process_due() { return process(now_ms()); }
    /// The earliest deadline (ms) among all shards, or `none`.
    std::uint64_t next_deadline() const noexcept;
    std::size_t num_shards() const noexcept { return num_shards_; }
    std::size_t num_timers() const noexcept;

private:
    struct alignas(64) shard {
        std::mutex mutex;
        timer_wheel wheel;
        std::atomic<std::uint64_t> next{none};
    };
    void publish_next(shard& s) noexcept;

    clock::time_point base_;
    std::atomic<bool> paused_;
    std::atomic<std::int64_t> paused_at_ns_{0};  // offset from base_ while paused
    std::atomic<std::int64_t> shift_ns_{0};      // added to the real clock when not paused
    std::unique_ptr<shard[]> shards_;
    std::size_t num_shards_;
};

}  // namespace rill::detail
