// Out-of-line parts of the channel internals (rill/detail/chan_lock.hpp).
#include <thread>

#include "rill/detail/chan_lock.hpp"
#include "rill/runtime/yield_now.hpp"

namespace rill::detail {

void chan_lock::lock_slow() noexcept {
    for (unsigned spins = 0;; ++spins) {
        if (!locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire)) return;
        if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            std::this_thread::yield();
        }
    }
}

void coop_yield_node(wake_node* n) noexcept { yield_wake(n); }

}  // namespace rill::detail
