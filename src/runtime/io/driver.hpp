// The I/O driver: edge-triggered epoll, one scheduled_io per registered fd, an eventfd to
// wake the worker parked in epoll_wait. See docs/design/io_driver.md.
//
// Design block.
//
// scheduled_io::readiness_ (one atomic u64): bits 0..15 io_bits (readable, writable,
//   read_closed, write_closed, error, shutdown), bits 16..63 a tick bumped by every event.
//   Events OR bits in and bump the tick (under the registration's lock, so a waiter that
//   checks readiness under the same lock either sees the bits or is on the list when the
//   dispatcher walks it). clear_readiness(ev) removes ev.ready's readable/writable bits
//   only while the tick is still ev.tick: an event that arrived after the operation saw
//   EAGAIN is never erased (Tokio's scheduled_io.rs scheme). Closed/error bits are sticky.
//
// Waiters: an intrusive list of io_waiter under the registration's mutex. The dispatcher
//   unlinks each waiter whose interest matches, takes its counted waker, and wakes the
//   collected wakers after unlocking (DESIGN §4). A waiter's destructor unlinks under the
//   same lock, so once it returns no wake can target it.
//
// Lifetime: epoll's data.ptr points at the scheduled_io. remove() does EPOLL_CTL_DEL, sets
//   `shutdown`, wakes every waiter, and puts the registration on a release list; it is
//   freed by the next poll before it calls epoll_wait (one poller at a time: poll_mutex_),
//   so an event fetched by an earlier epoll_wait can never touch freed memory. Once the
//   driver has shut down (no poller will run again) remove() releases at once. "Free" is
//   dropping the driver's ref: a waiter that was linked holds its own ref until it has
//   resumed (or been destroyed), so a task woken by close() reads a live registration.
//
// Polling: one thread at a time holds poll_mutex_. The scheduler's clock-and-I/O watcher
//   (one parked worker) blocks in epoll_wait with the next timer deadline as its timeout;
//   busy workers call try_poll() every event_interval ticks and before parking. wake()
//   writes the eventfd, which makes a blocked epoll_wait return. Any poller drains the
//   eventfd, so a try_poll() can eat the write meant for the watcher; the watcher
//   therefore checks its parker for a pending unpark under poll_mutex_ (poll(t, parker)),
//   after which no other poller can run before its epoll_wait.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "rill/detail/io_source.hpp"
#include "runtime/scheduler/parker.hpp"

namespace rill::detail {

struct scheduled_io {
    std::atomic<std::uint64_t> readiness_{0};
    std::atomic<std::uint32_t> refs_{1};  // the driver's, the io_source's, one per linked-and-not-resumed waiter
    std::mutex mutex_;
    io_waiter* head_ = nullptr;  // guarded by mutex_
    io_waiter* tail_ = nullptr;
    scheduled_io* prev_ = nullptr;  // driver's registration list (driver's reg_mutex_)
    scheduled_io* next_ = nullptr;
    int fd_ = -1;
};

/// A registration that runs a function when its fd signals, instead of waking waiters
/// (a worker's io_uring ring: its fd is readable when completions are posted).
struct io_callback {
    /// Returns the tasks it woke. Called by the poller (under the poll lock, as every
    /// dispatch is).
    std::size_t (*fire)(io_callback*) noexcept = nullptr;
};

class io_driver {
public:
    io_driver();
    ~io_driver();
    io_driver(const io_driver&) = delete;
    io_driver& operator=(const io_driver&) = delete;

    /// Registers `fd` (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET). Throws std::system_error.
    scheduled_io* add(int fd);
    /// Deregisters, wakes waiters with `shutdown`, frees later (see design block). The
    /// caller closes the fd afterwards.
    void remove(scheduled_io* io) noexcept;
    /// Registers `fd` (EPOLLIN|EPOLLET) so that each event calls cb->fire. Throws.
    void add_callback(int fd, io_callback* cb);
    /// Deregisters a callback fd. Only once no poll can be running (the workers have
    /// stopped): an event fetched earlier would reach a freed callback.
    void remove_callback(int fd) noexcept;

    /// Waits up to `timeout_ms` (-1: forever) for events and dispatches them. Returns the
    /// number of waiters woken.
    /// Blocks in epoll_wait for at most `timeout_ms` (-1: forever), or does not block at
    /// all if `p` holds an unpark, which it consumes. The check is made under the poll
    /// lock: a try_poll() of another thread may have drained the eventfd write that was
    /// meant to wake this caller, but the unparker set `p` before that write.
    std::size_t poll(int timeout_ms, parker& p);
    /// A zero-timeout poll if no other thread is polling; 0 otherwise.
    std::size_t try_poll();
    /// Makes a blocked poll return.
    void wake() noexcept;
    /// Marks every registration shut down and wakes its waiters; afterwards no poll runs.
    void shutdown() noexcept;

private:
    std::size_t poll_locked(int timeout_ms);
    void free_released() noexcept;
    static std::size_t dispatch(scheduled_io* io, std::uint32_t bits) noexcept;

    int epfd_ = -1;
    int eventfd_ = -1;
    std::mutex poll_mutex_;
    std::mutex reg_mutex_;
    scheduled_io* regs_ = nullptr;      // every live registration (reg_mutex_)
    scheduled_io* released_ = nullptr;  // removed, awaiting the next poll (reg_mutex_)
    std::size_t count_ = 0;             // entries in regs_ (reg_mutex_)
    // What a poll could return or has to free: live registrations, callbacks, and
    // released registrations not yet freed. At zero, try_poll skips its epoll_wait
    // (a runtime running only computation polls every event_interval ticks).
    std::atomic<std::size_t> pollable_{0};
    bool shut_down_ = false;            // reg_mutex_
    static constexpr int max_events = 1024;
    epoll_event events_[max_events];  // poll_mutex_
};

}  // namespace rill::detail
