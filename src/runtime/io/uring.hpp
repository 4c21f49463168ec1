// A worker's io_uring ring: socket recv/send requests queued by the tasks running on
// that worker and submitted in one io_uring_enter when the worker runs out of work (or
// every event_interval ticks, or before it parks). Completions wake the tasks. See
// docs/design/io_uring.md and the op's design block in rill/detail/uring_op.hpp.
//
// Design block.
//
// Threads: the owning worker queues requests and flushes; any thread may reap (the I/O
//   driver's poller, when the ring's fd signals completions while the owner is parked)
//   or submit a cancel (a socket closed elsewhere). Everything that touches the
//   submission or completion queue holds mutex_, so the ring is set up without
//   SINGLE_ISSUER and with no task-run deferral: a completion that needs the
//   submitting thread's task work interrupts it even while it sleeps on its futex.
//
// The ring's fd is registered with the epoll driver (edge-triggered, a callback
//   registration), so a parked owner's completions are reaped by whichever worker
//   polls the driver.
//
// Shutdown: after the workers have stopped and every task has been destroyed, drain()
//   cancels everything still in flight and reaps until nothing is, so every op's kernel
//   ref is dropped and no kernel write can land after the runtime is gone.
#pragma once

#include <cstddef>
#include <memory>

#include "rill/detail/uring_op.hpp"

namespace rill::detail {

class io_driver;

/// Creates a ring registered with `io` (null when io_uring is not available here: the
/// kernel refuses it, or rill was built without liburing).
std::unique_ptr<uring_ring, void (*)(uring_ring*)> uring_create(io_driver* io, unsigned entries);
/// Submits what the owner queued and reaps completions. Returns the waiters woken.
std::size_t uring_flush(uring_ring* r) noexcept;
/// The owner has nothing to run: waits up to `timeout_ns` for a completion (if any
/// request is in flight), then reaps. Returns the waiters woken.
std::size_t uring_idle_wait(uring_ring* r, long timeout_ns) noexcept;
/// Requests queued or in flight (0: nothing to wait for).
bool uring_busy(uring_ring* r) noexcept;
/// Cancels everything in flight and reaps until nothing is (shutdown only).
void uring_drain(uring_ring* r) noexcept;
/// Sets this thread's ring (the worker loop; null to clear).
void set_current_ring(uring_ring* r) noexcept;
/// Whether a runtime asked for io_uring: `setting` 1 yes, 0 no, -1 the RILL_IO_URING
/// environment variable ("1" turns it on).
bool uring_wanted(int setting) noexcept;

}  // namespace rill::detail
