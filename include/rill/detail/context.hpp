// Access to the calling thread's runtime context from public templates.
//
// Out of line on purpose: these read thread-locals, and must not be inlined into
// coroutine bodies that may resume on another worker (DESIGN §2).
#pragma once

#include <cstdint>

#include "rill/detail/task_header.hpp"

namespace rill::detail {

struct runtime_inner;

/// Ready operations a task may complete in one poll before it must yield (DESIGN §5).
inline constexpr std::uint32_t coop_budget = 128;

/// The scheduler of the calling thread, or null outside a runtime.
scheduler_base* current_scheduler() noexcept;
/// The runtime of the calling thread, or throws std::logic_error outside a runtime.
runtime_inner& current_runtime_or_throw();
/// The runtime of the calling thread, or null.
runtime_inner* current_runtime() noexcept;
/// The task this thread is polling, or null.
header* current_task() noexcept;

/// Consumes one unit of the cooperative budget. False when exhausted: the caller must
/// then suspend and yield instead of completing (coop_yield).
bool coop_proceed() noexcept;
/// True when budget remains (does not consume).
bool coop_has_budget() noexcept;

}  // namespace rill::detail
