#include "runtime/context.hpp"

#include <stdexcept>

namespace rill::detail {

thread_local thread_context t_ctx;

context_guard::context_guard(scheduler_base* s, void* worker, runtime_inner* rt) noexcept : saved_(t_ctx) {
    t_ctx.scheduler = s;
    t_ctx.worker = worker;
    t_ctx.runtime = rt;
    t_ctx.current = nullptr;
    t_ctx.budget = coop_budget;
}

context_guard::~context_guard() { t_ctx = saved_; }


scheduler_base* current_scheduler() noexcept { return t_ctx.scheduler; }

runtime_inner* current_runtime() noexcept { return t_ctx.runtime; }

runtime_inner& current_runtime_or_throw() {
    if (t_ctx.runtime == nullptr)
        throw std::logic_error("rill: there is no runtime on this thread (call it from a task, or "
                               "through runtime::handle)");
    return *t_ctx.runtime;
}

header* current_task() noexcept { return t_ctx.current; }

bool coop_proceed() noexcept {
    if (t_ctx.current == nullptr) return true;  // outside a task poll: unconstrained
    if (t_ctx.budget == 0) return false;
    --t_ctx.budget;
    return true;
}

bool coop_has_budget() noexcept { return t_ctx.current == nullptr || t_ctx.budget > 0; }

}  // namespace rill::detail
