// The io_uring rings of the multi-thread workers (design block in uring.hpp).
#include "runtime/io/uring.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <system_error>
#include <utility>

#include "rill/detail/frame_alloc.hpp"
#include "runtime/context.hpp"
#include "runtime/io/driver.hpp"

#if defined(RILL_HAVE_LIBURING)
#include <liburing.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace rill::detail {

uring_ring* current_ring() noexcept { return tls().ring; }
void set_current_ring(uring_ring* r) noexcept { tls().ring = r; }

bool uring_wanted(int setting) noexcept {
    if (setting >= 0) return setting == 1;
    const char* env = std::getenv("RILL_IO_URING");
    return env != nullptr && std::strcmp(env, "1") == 0;
}

bool uring_wait_on(uring_op* op, wake_node* node) noexcept {
    {
        std::lock_guard g(op->lock);
        if (!op->done) {
            op->waiter = node;
            return true;
        }
    }
    drop_node(node);
    return false;
}

void uring_cancel_wait(uring_op* op) noexcept {
    wake_node* n;
    {
        std::lock_guard g(op->lock);
        n = std::exchange(op->waiter, nullptr);
    }
    drop_node(n);
}

#if defined(RILL_HAVE_LIBURING)

namespace {

void op_unref(uring_op* op) noexcept {
    if (op->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    const std::size_t size = sizeof(uring_op) + op->cap;
    op->~uring_op();
    frame_deallocate(op, size);
}

uring_op* op_new(uring_ring* r, std::size_t cap) {
    void* mem = frame_allocate(sizeof(uring_op) + cap);
    auto* op = new (mem) uring_op;
    op->ring = r;
    op->cap = static_cast<std::uint32_t>(cap);
    op->refs.store(2, std::memory_order_relaxed);  // the owner's and the kernel's
    return op;
}

}  // namespace

void uring_unref(uring_op* op) noexcept { op_unref(op); }

struct uring_ring : io_callback {
    io_uring ring{};
    std::mutex mutex;
    io_driver* io = nullptr;
    unsigned queued = 0;        // prepared, not yet submitted (mutex)
    std::uint64_t queued_seq = 0;     // sequence number of the last SQE queued (mutex)
    std::uint64_t submitted_seq = 0;  // ... and of the last one submitted (mutex)
    std::size_t in_flight = 0;  // submitted requests whose completion is not reaped (mutex)
    bool closed = false;        // drained: nothing may be queued any more (mutex)
};

namespace {

constexpr unsigned reap_batch = 64;

/// Reaps up to reap_batch completions (the caller holds r->mutex); the waiters to wake
/// (after unlocking) go to `woken`. Returns the completions reaped.
unsigned reap_locked(uring_ring* r, wake_node** woken, std::size_t* n_woken) noexcept {
    io_uring_cqe* cqes[reap_batch];
    const unsigned n = io_uring_peek_batch_cqe(&r->ring, cqes, reap_batch);
    for (unsigned i = 0; i < n; ++i) {
        const std::uint64_t ud = io_uring_cqe_get_data64(cqes[i]);
        const int res = cqes[i]->res;
        --r->in_flight;
        auto* op = reinterpret_cast<uring_op*>(ud);
        if (op == nullptr) continue;  // the drain's cancel-all
        {
            std::lock_guard g(op->lock);
            op->res = op->dropped ? -ECANCELED : res;
            op->done = true;
            if (wake_node* w = std::exchange(op->waiter, nullptr)) woken[(*n_woken)++] = w;
        }
        op_unref(op);  // the kernel's ref
    }
    io_uring_cq_advance(&r->ring, n);
    return n;
}

/// Submits everything queued (the caller holds r->mutex).
void submit_locked(uring_ring* r) noexcept {
    io_uring_submit(&r->ring);
    r->queued = 0;
    r->submitted_seq = r->queued_seq;
}

/// A free submission entry (submitting what is queued when the queue is full); the
/// caller holds r->mutex.
io_uring_sqe* sqe_locked(uring_ring* r) {
    io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
    if (sqe == nullptr) {
        submit_locked(r);
        sqe = io_uring_get_sqe(&r->ring);
        if (sqe == nullptr) throw std::system_error(EBUSY, std::generic_category(), "rill: io_uring submission queue full");
    }
    ++r->queued;
    ++r->in_flight;
    return sqe;
}

std::size_t reap_and_wake(uring_ring* r) noexcept {
    std::size_t total = 0;
    for (;;) {
        wake_node* woken[reap_batch];
        std::size_t n = 0;
        unsigned reaped;
        {
            std::lock_guard lock(r->mutex);
            reaped = reap_locked(r, woken, &n);
        }
        // Outside the lock: a wake on a closed scheduler destroys the task on the spot,
        // and its sockets release their ops (which takes the lock).
        for (std::size_t i = 0; i < n; ++i) wake_by_value(woken[i]);
        total += n;
        // Until the queue is empty: a short batch may come from a queue that wrapped,
        // and peeking an empty queue also flushes completions the kernel kept back.
        if (reaped == 0) return total;
    }
}

std::size_t on_ring_event(io_callback* cb) noexcept { return reap_and_wake(static_cast<uring_ring*>(cb)); }

void ring_destroy(uring_ring* r) {
    if (r == nullptr) return;
    uring_drain(r);
    if (r->io) r->io->remove_callback(r->ring.ring_fd);
    io_uring_queue_exit(&r->ring);
    delete r;
}

}  // namespace

std::unique_ptr<uring_ring, void (*)(uring_ring*)> uring_create(io_driver* io, unsigned entries) {
    std::unique_ptr<uring_ring, void (*)(uring_ring*)> none(nullptr, &ring_destroy);
    auto* r = new uring_ring;
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = entries * 4;
    if (io_uring_queue_init_params(entries, &r->ring, &p) < 0) {
        delete r;
        return none;
    }
    r->fire = &on_ring_event;
    try {
        io->add_callback(r->ring.ring_fd, r);
    } catch (...) {
        io_uring_queue_exit(&r->ring);
        delete r;
        return none;
    }
    r->io = io;
    return {r, &ring_destroy};
}

namespace {
/// A new op of `cap` bytes (a copy of `copy` when given) with its SQE queued on `r`;
/// `prep` fills the SQE.
template <class Prep>
uring_op* queue_op(uring_ring* r, std::size_t cap, const std::byte* copy, Prep prep) {
    uring_op* op = op_new(r, cap);
    if (copy != nullptr) std::memcpy(op->data(), copy, cap);
    std::lock_guard lock(r->mutex);
    io_uring_sqe* sqe;
    try {
        sqe = sqe_locked(r);
    } catch (...) {
        op->refs.store(1, std::memory_order_relaxed);  // no kernel ref after all
        op_unref(op);
        throw;
    }
    prep(sqe, op);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(op));
    op->seq = ++r->queued_seq;
    op->sqe = sqe;
    return op;
}
}  // namespace

uring_op* uring_recv(uring_ring* r, int fd, std::size_t len) {
    return queue_op(r, len, nullptr,
                    [&](io_uring_sqe* sqe, uring_op* op) { io_uring_prep_recv(sqe, fd, op->data(), len, 0); });
}

uring_op* uring_send(uring_ring* r, int fd, std::span<const std::byte> bytes) {
    return queue_op(r, bytes.size(), bytes.data(), [&](io_uring_sqe* sqe, uring_op* op) {
        io_uring_prep_send(sqe, fd, op->data(), bytes.size(), MSG_NOSIGNAL);
    });
}

void uring_release(uring_op* op) noexcept {
    bool cancel = false;
    {
        std::lock_guard g(op->lock);
        if (!op->done && !op->cancel_sent) {
            op->cancel_sent = true;
            cancel = true;
        }
    }
    if (cancel) {
        uring_ring* r = op->ring;
        bool submitted = false;
        {
            std::lock_guard lock(r->mutex);
            if (r->closed) {
                // Drained: nothing is in flight any more.
            } else if (op->seq > r->submitted_seq) {
                // Still in the submission queue: make it a no-op. The owner submits it
                // with its next batch; the completion reports ECANCELED.
                auto* sqe = static_cast<io_uring_sqe*>(op->sqe);
                io_uring_prep_nop(sqe);
                io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(op));
                op->dropped = true;
            } else {
                submitted = true;
            }
        }
        if (submitted) {
            // Not through the submission queue: that would submit the owner's queued
            // requests from this thread, and their task work would run here. Without
            // the ring's lock: the cancel waits for the request, whose completion may
            // need a reaper. Our ref keeps the op (the key) alive until it returns.
            io_uring_sync_cancel_reg reg{};
            reg.addr = reinterpret_cast<std::uint64_t>(op);
            reg.fd = -1;
            reg.timeout.tv_sec = 1;
            reg.timeout.tv_nsec = 0;
            io_uring_register_sync_cancel(&r->ring, &reg);
            // -ENOENT: it completed meanwhile; -ETIME: it completes on its own (a recv
            // when data or the end of stream comes, or at the drain at shutdown).
        }
    }
    op_unref(op);
}

std::size_t uring_flush(uring_ring* r) noexcept {
    {
        std::lock_guard lock(r->mutex);
        if (r->queued != 0) {
            submit_locked(r);
        } else if (r->in_flight == 0 || io_uring_cq_ready(&r->ring) == 0) {
            return 0;
        }
    }
    return reap_and_wake(r);
}

std::size_t uring_idle_wait(uring_ring* r, long timeout_ns) noexcept {
    {
        std::lock_guard lock(r->mutex);
        if (r->in_flight == 0) return 0;
        if (io_uring_cq_ready(&r->ring) == 0) {
            // Without the lock: GETEVENTS with nothing to submit reads no queue memory;
            // it returns at the first completion (running the task work that posts it)
            // or at the timeout.
            __kernel_timespec ts{0, timeout_ns};
            io_uring_getevents_arg arg{};
            arg.ts = reinterpret_cast<std::uint64_t>(&ts);
            const int fd = r->ring.ring_fd;
            r->mutex.unlock();
            ::syscall(__NR_io_uring_enter, fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
            r->mutex.lock();
        }
    }
    return reap_and_wake(r);
}

bool uring_busy(uring_ring* r) noexcept {
    std::lock_guard lock(r->mutex);
    return r->in_flight != 0;
}

void uring_drain(uring_ring* r) noexcept {
    {
        std::lock_guard lock(r->mutex);
        if (r->closed) return;
        r->closed = true;
        if (r->in_flight != 0) {
            submit_locked(r);  // first: a full queue would leave no entry for the cancel
            if (io_uring_sqe* sqe = io_uring_get_sqe(&r->ring)) {
                io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY);
                io_uring_sqe_set_data64(sqe, 0);
                ++r->in_flight;
                ++r->queued_seq;
            }
            submit_locked(r);
        }
    }
    for (;;) {
        wake_node* woken[reap_batch];
        std::size_t n = 0;
        {
            std::lock_guard lock(r->mutex);
            if (r->in_flight == 0) return;
            io_uring_cqe* cqe = nullptr;
            const int e = io_uring_wait_cqe(&r->ring, &cqe);
            if (e < 0 && e != -EINTR && e != -EAGAIN) return;  // the ring is broken: give up
            reap_locked(r, woken, &n);
        }
        // Waiters of a shut-down runtime: waking schedules onto a closed scheduler, which
        // cancels the task (a no-op if shutdown already destroyed it).
        for (std::size_t i = 0; i < n; ++i) wake_by_value(woken[i]);
    }
}

#else  // no liburing: every runtime uses the epoll path

struct uring_ring {};

std::unique_ptr<uring_ring, void (*)(uring_ring*)> uring_create(io_driver*, unsigned) {
    return {nullptr, [](uring_ring*) {}};
}
uring_op* uring_recv(uring_ring*, int, std::size_t) { std::abort(); }
uring_op* uring_send(uring_ring*, int, std::span<const std::byte>) { std::abort(); }
void uring_release(uring_op*) noexcept {}
void uring_unref(uring_op*) noexcept {}
std::size_t uring_flush(uring_ring*) noexcept { return 0; }
bool uring_busy(uring_ring*) noexcept { return false; }
std::size_t uring_idle_wait(uring_ring*, long) noexcept { return 0; }
void uring_drain(uring_ring*) noexcept {}

#endif

}  // namespace rill::detail
