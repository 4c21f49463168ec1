// Out-of-line parts of the channel internals (rill/detail/chan_lock.hpp).
#include <thread>

#include "rill/detail/chan_lock.hpp"
#include "rill/runtime/yield_now.hpp"

namespace rill::detail {

void coop_yield_node(wake_node* n) noexcept { yield_wake(n); }

}  // namespace rill::detail
