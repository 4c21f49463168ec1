// Called when a runtime is built: SIGPIPE becomes ignored unless the program set a
// handler (or already ignores it). Idempotent, thread-safe.
#pragma once

namespace rill::signal::detail {
void ignore_sigpipe_by_default() noexcept;
}
