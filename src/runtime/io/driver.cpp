// The epoll I/O driver (design block in driver.hpp; docs/design/io_driver.md).
#include "runtime/io/driver.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "runtime/context.hpp"
#include "runtime/runtime_inner.hpp"

namespace rill::detail {

namespace {

std::uint32_t bits_of(std::uint32_t ev) noexcept {
    std::uint32_t b = 0;
    if (ev & (EPOLLIN | EPOLLPRI)) b |= io_bits::readable;
    if (ev & EPOLLOUT) b |= io_bits::writable;
    if (ev & EPOLLRDHUP) b |= io_bits::read_closed;
    if (ev & EPOLLHUP) b |= io_bits::read_closed | io_bits::write_closed;
    if (ev & EPOLLERR) b |= io_bits::error;
    return b;
}

void unlink_waiter(scheduled_io* io, io_waiter* w) noexcept {
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        io->head_ = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    } else {
        io->tail_ = w->prev;
    }
    w->prev = w->next = nullptr;
    w->linked = false;
}
}  // namespace

// --- readiness and waiters ------------------------------------------------------------

ready_event io_peek_ready(scheduled_io* io, std::uint32_t interest) noexcept {
    const std::uint64_t cur = io->readiness_.load(std::memory_order_acquire);
    return {cur >> 16, static_cast<std::uint32_t>(cur) & ((interest | io_bits::shutdown) & io_bits::mask)};
}

bool io_wait(scheduled_io* io, io_waiter* w, wake_node* node, ready_event& ev) noexcept {
    {
        std::lock_guard lock(io->mutex_);
        ev = io_peek_ready(io, w->interest);
        if (ev.ready == 0) {
            w->waker = node;
            w->prev = io->tail_;
            w->next = nullptr;
            if (io->tail_) {
                io->tail_->next = w;
            } else {
                io->head_ = w;
            }
            io->tail_ = w;
            w->linked = true;
            io->refs_.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
    }
    drop_node(node);
    return false;
}

void io_cancel_wait(scheduled_io* io, io_waiter* w) noexcept {
    wake_node* n;
    {
        std::lock_guard lock(io->mutex_);
        if (w->linked) unlink_waiter(io, w);
        n = std::exchange(w->waker, nullptr);
    }
    drop_node(n);
    io_unref(io);
}

void io_unref(scheduled_io* io) noexcept {
    if (io->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete io;
}

void io_clear_readiness(scheduled_io* io, ready_event ev) noexcept {
    // The error bit goes too: the syscall that hit EAGAIN has already consumed the socket
    // error (sk_err), so a kept bit would make every later wait return at once and spin.
    // Only the closed bits are sticky (as in Tokio).
    const std::uint64_t clear = ev.ready & (io_bits::readable | io_bits::writable | io_bits::error);
    std::uint64_t cur = io->readiness_.load(std::memory_order_acquire);
    while ((cur >> 16) == ev.tick) {
        if (io->readiness_.compare_exchange_weak(cur, cur & ~clear, std::memory_order_acq_rel)) return;
    }
}

void io_throw_closed() {
    throw std::system_error(ECANCELED, std::generic_category(),
                            "rill::net: the socket was closed (or the runtime shut down) while waiting on it");
}

// --- io_source --------------------------------------------------------------------------

io_source::io_source(int fd) {
    runtime_inner* rt = current_runtime();
    if (rt == nullptr || !rt->io) {
        ::close(fd);
        throw std::logic_error(rt == nullptr ? "rill::net: there is no runtime on this thread"
                                             : "rill::net: I/O is disabled; build the runtime with enable_io()");
    }
    try {
        io_ = rt->io->add(fd);
    } catch (...) {
        ::close(fd);
        throw;
    }
    io_->refs_.fetch_add(1, std::memory_order_relaxed);  // this source's own reference
    runtime_inner_ref(rt);
    rt_ = rt;
    fd_.store(fd, std::memory_order_relaxed);
}

io_source::io_source(io_source&& o) noexcept
    : fd_(o.fd_.exchange(-1, std::memory_order_relaxed)),
      io_(std::exchange(o.io_, nullptr)),
      rt_(std::exchange(o.rt_, nullptr)) {}

io_source::~io_source() {
    close();
    if (io_) io_unref(io_);
}

io_source& io_source::operator=(io_source&& o) noexcept {
    if (this != &o) {
        close();
        if (io_) io_unref(io_);
        fd_.store(o.fd_.exchange(-1, std::memory_order_relaxed), std::memory_order_relaxed);
        io_ = std::exchange(o.io_, nullptr);
        rt_ = std::exchange(o.rt_, nullptr);
    }
    return *this;
}

void io_source::close() noexcept {
    const int fd = fd_.exchange(-1, std::memory_order_relaxed);
    if (fd < 0) return;
    rt_->io->remove(io_);  // wakes the waiters; the driver drops its reference later
    ::close(fd);
    // io_ stays: our reference keeps the registration (now marked shut down) valid for
    // an operation of another task that raced this close; the destructor drops it.
    runtime_inner_unref(std::exchange(rt_, nullptr));  // may free the driver: nothing after
}

void io_source::check_open() const {
    if (fd() < 0) throw std::system_error(EBADF, std::generic_category(), "rill::net: the socket is closed");
}

// --- the driver -------------------------------------------------------------------------

io_driver::io_driver() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "rill: epoll_create1");
    eventfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (eventfd_ < 0) {
        const int e = errno;
        ::close(epfd_);
        throw std::system_error(e, std::generic_category(), "rill: eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.ptr = nullptr;  // the eventfd
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, eventfd_, &ev) < 0) {
        const int e = errno;
        ::close(eventfd_);
        ::close(epfd_);
        throw std::system_error(e, std::generic_category(), "rill: epoll_ctl(eventfd)");
    }
}

io_driver::~io_driver() {
    // Every io_source holds a runtime ref, so none is left; only released ones remain.
    free_released();
    while (scheduled_io* io = regs_) {  // defensive: nothing should be here
        regs_ = io->next_;
        delete io;
    }
    ::close(eventfd_);
    ::close(epfd_);
}

scheduled_io* io_driver::add(int fd) {
    auto* io = new scheduled_io;
    io->fd_ = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = io;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        const int e = errno;
        delete io;
        throw std::system_error(e, std::generic_category(), "rill: epoll_ctl(ADD)");
    }
    std::lock_guard lock(reg_mutex_);
    if (shut_down_) io->readiness_.store(io_bits::shutdown, std::memory_order_relaxed);
    io->next_ = regs_;
    if (regs_) regs_->prev_ = io;
    regs_ = io;
    ++count_;
    pollable_.fetch_add(1, std::memory_order_relaxed);
    return io;
}

void io_driver::add_callback(int fd, io_callback* cb) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = reinterpret_cast<std::uint64_t>(cb) | 1u;  // bit 0: a callback
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
        throw std::system_error(errno, std::generic_category(), "rill: epoll_ctl(ADD callback)");
    pollable_.fetch_add(1, std::memory_order_relaxed);
}

void io_driver::remove_callback(int fd) noexcept {
    if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) == 0) pollable_.fetch_sub(1, std::memory_order_relaxed);
}

void io_driver::remove(scheduled_io* io) noexcept {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, io->fd_, nullptr);
    dispatch(io, io_bits::shutdown);
    bool free_now;
    {
        std::lock_guard lock(reg_mutex_);
        if (io->prev_) {
            io->prev_->next_ = io->next_;
        } else {
            regs_ = io->next_;
        }
        if (io->next_) io->next_->prev_ = io->prev_;
        io->prev_ = nullptr;
        --count_;
        free_now = shut_down_;
        if (!free_now) {
            io->next_ = released_;
            released_ = io;
        }
    }
    if (free_now) {
        pollable_.fetch_sub(1, std::memory_order_relaxed);
        io_unref(io);
    }
}

void io_driver::free_released() noexcept {
    scheduled_io* list;
    {
        std::lock_guard lock(reg_mutex_);
        list = std::exchange(released_, nullptr);
    }
    while (list) {
        scheduled_io* next = list->next_;
        pollable_.fetch_sub(1, std::memory_order_relaxed);
        io_unref(list);
        list = next;
    }
}

std::size_t io_driver::dispatch(scheduled_io* io, std::uint32_t bits) noexcept {
    constexpr std::size_t batch = 32;
    wake_node* wake[batch];
    std::size_t total = 0;
    std::unique_lock lock(io->mutex_);
    // A CAS, not load + store: io_clear_readiness changes the word without the lock, and
    // a clear landing in between would be undone (a spurious readiness, one EAGAIN).
    std::uint64_t cur = io->readiness_.load(std::memory_order_relaxed);
    std::uint64_t next;
    do {
        next = ((cur | bits) & io_bits::mask) | (((cur >> 16) + 1) << 16);
    } while (!io->readiness_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_relaxed));
    const auto ready = static_cast<std::uint32_t>(next) & io_bits::mask;
    for (;;) {
        std::size_t n = 0;
        io_waiter* w = io->head_;
        while (w != nullptr && n < batch) {
            io_waiter* after = w->next;
            if ((w->interest | io_bits::shutdown) & ready) {
                unlink_waiter(io, w);
                if (wake_node* node = std::exchange(w->waker, nullptr)) wake[n++] = node;
            }
            w = after;
        }
        const bool more = w != nullptr;
        lock.unlock();
        for (std::size_t i = 0; i < n; ++i) wake_by_value(wake[i]);
        total += n;
        if (!more) return total;
        lock.lock();
    }
}

std::size_t io_driver::poll(int timeout_ms, parker& p) {
    std::lock_guard lock(poll_mutex_);
    return poll_locked(p.take_notified() ? 0 : timeout_ms);
}

std::size_t io_driver::try_poll() {
    // Nothing registered: no event to fetch and nothing to free (a registration made
    // meanwhile is seen by the next poll, or by a parked worker's blocking one).
    if (pollable_.load(std::memory_order_relaxed) == 0) return 0;
    std::unique_lock lock(poll_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return 0;
    return poll_locked(0);
}

std::size_t io_driver::poll_locked(int timeout_ms) {
    // Registrations removed before this point cannot be in the batch we are about to
    // fetch (EPOLL_CTL_DEL came first), and the previous batch is fully dispatched.
    free_released();
    const int n = ::epoll_wait(epfd_, events_, max_events, timeout_ms);
    if (n < 0) return 0;  // EINTR
    std::size_t woken = 0;
    for (int i = 0; i < n; ++i) {
        if (events_[i].data.u64 & 1u) {
            auto* cb = reinterpret_cast<io_callback*>(events_[i].data.u64 & ~std::uint64_t{1});
            woken += cb->fire(cb);
            continue;
        }
        auto* io = static_cast<scheduled_io*>(events_[i].data.ptr);
        if (io == nullptr) {
            std::uint64_t v;
            while (::read(eventfd_, &v, sizeof v) > 0) {
            }
            continue;
        }
        woken += dispatch(io, bits_of(events_[i].events));
    }
    return woken;
}

void io_driver::wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(eventfd_, &one, sizeof one);
}

void io_driver::shutdown() noexcept {
    std::vector<scheduled_io*> live;
    {
        std::lock_guard poll_lock(poll_mutex_);  // no poll is in progress, none will start
        std::lock_guard lock(reg_mutex_);
        if (shut_down_) return;
        shut_down_ = true;
        try {
            live.reserve(count_);
        } catch (...) {  // no memory: the sockets' own close() still wakes their waiters
        }
        for (scheduled_io* io = regs_; io != nullptr && live.size() < live.capacity(); io = io->next_) {
            io->refs_.fetch_add(1, std::memory_order_relaxed);  // keeps it alive past the lock
            live.push_back(io);
        }
    }
    // Outside the locks: a woken task that the closed scheduler destroys on the spot may
    // close its sockets (remove() takes reg_mutex_).
    for (scheduled_io* io : live) {
        dispatch(io, io_bits::shutdown);
        io_unref(io);
    }
    free_released();
}

}  // namespace rill::detail
