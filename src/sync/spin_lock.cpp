#include "rill/detail/spin_lock.hpp"

#include <thread>

namespace rill::detail {

void spin_lock::lock_slow() noexcept {
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

}  // namespace rill::detail
