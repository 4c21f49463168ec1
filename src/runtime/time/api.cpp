// The public time functions, bound to the calling thread's runtime.
#include <stdexcept>

#include "rill/time/clock.hpp"
#include "rill/time/sleep.hpp"
#include "runtime/context.hpp"
#include "runtime/runtime_inner.hpp"
#include "runtime/time/driver.hpp"

namespace rill::time {

namespace {
rill::detail::time_driver& driver_or_throw() {
    rill::detail::runtime_inner* rt = rill::detail::current_runtime();
    if (rt == nullptr) throw std::logic_error("rill::time: there is no runtime on this thread");
    if (!rt->time) throw std::logic_error("rill::time: timers are disabled; build the runtime with enable_time()");
    return *rt->time;
}
}  // namespace

namespace detail {

std::chrono::steady_clock::time_point now() noexcept {
    rill::detail::runtime_inner* rt = rill::detail::current_runtime();
    if (rt != nullptr && rt->time) return rt->time->now();
    return std::chrono::steady_clock::now();
}

bool timer_register(rill::detail::timer_entry* e, std::chrono::steady_clock::time_point deadline,
                    rill::detail::wake_node* waker) {
    using rill::detail::timer_entry;
    if (e->state_.load(std::memory_order_acquire) == timer_entry::registered) {
        // Awaited again (the branch that first awaited it is gone): keep its place.
        auto* d = static_cast<rill::detail::time_driver*>(e->driver_);
        if (d->now() >= deadline) {
            d->remove(e);
            return false;
        }
        return d->rewake(e, waker);  // false: fired meanwhile
    }
    rill::detail::time_driver& d = driver_or_throw();
    const auto now = d.now();
    if (now >= deadline) return false;
    e->deadline_ms_ = d.to_ms_ceil(deadline);
    if (e->deadline_ms_ <= d.to_ms_floor(now)) return false;
    if (!d.add(e, waker, rill::detail::tls().worker_index)) return false;
    rill::detail::runtime_timer_added(*rill::detail::current_runtime(), e->deadline_ms_);
    return true;
}

void timer_unregister(rill::detail::timer_entry* e) noexcept {
    using rill::detail::timer_entry;
    const auto st = e->state_.load(std::memory_order_acquire);
    if (st == timer_entry::idle) return;
    if (st == timer_entry::fired) {
        e->state_.store(timer_entry::idle, std::memory_order_relaxed);
        return;
    }
    static_cast<rill::detail::time_driver*>(e->driver_)->remove(e);
}

void advance_clock(duration d) {
    rill::detail::time_driver& drv = driver_or_throw();
    if (!drv.paused()) throw std::logic_error("rill::time::advance: the clock is not paused");
    drv.advance(d);
    drv.process_due();
}

}  // namespace detail

void pause() {
    rill::detail::runtime_inner* rt = rill::detail::current_runtime();
    rill::detail::time_driver& d = driver_or_throw();
    if (rt->cfg.flavor != flavor::current_thread)
        throw std::logic_error("rill::time::pause: only the current_thread runtime can be paused");
    d.pause();
}

void resume() { driver_or_throw().resume(); }

}  // namespace rill::time
