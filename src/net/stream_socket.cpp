// stream_socket: the readiness loop of DESIGN §6 around recv/send/sendmsg.
#include "rill/net/stream_socket.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <utility>
#include <system_error>

namespace rill::net {

namespace {
[[noreturn]] void throw_errno(int e, const char* what) { throw std::system_error(e, std::generic_category(), what); }
bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK; }
// A ring op's negative result: ECANCELED is the socket closed under it (as on the
// readiness path), anything else the errno of the failed recv/send.
[[noreturn]] void throw_op_error(int res, const char* what) {
    if (res == -ECANCELED) detail::io_throw_closed();
    throw_errno(-res, what);
}
// Copies the received bytes of `op` not yet handed out into buf (the socket's lock).
std::size_t copy_op_bytes(detail::uring_op* op, std::span<std::byte> buf) noexcept {
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(op->res) - op->off, buf.size());
    std::memcpy(buf.data(), op->data() + op->off, k);
    return k;
}
}  // namespace

stream_socket::read_step stream_socket::read_now(std::span<std::byte> buf, const detail::ready_event& ev,
                                                 std::size_t* n, const char* what) {
    std::lock_guard g(ahead_.lock);
    if (ahead_.error != 0) throw_errno(std::exchange(ahead_.error, 0), what);
    // Read-ahead bytes first. While there are any, the socket stays readable (nothing
    // clears its readiness), so the caller's wait for readiness did not block.
    const std::size_t k = ahead_.copy_to(buf);
    ahead_.off = static_cast<std::uint8_t>(ahead_.off + k);
    ahead_.len = static_cast<std::uint8_t>(ahead_.len - k);
    if (k == buf.size()) {  // also an empty buffer: 0, as recv would say
        *n = k;
        return read_step::done;
    }
    std::span<std::byte> rest = buf.subspan(k);
    // Large buffers are rarely filled exactly (a short read proves the socket drained
    // as well), and a plain recv is cheaper than a gathering one: read ahead only for
    // small reads, the frames of request/response protocols.
    const bool spill = rest.size() < read_ahead::max_request;
    ssize_t r;
    if (spill) {
        iovec iov[2] = {{rest.data(), rest.size()}, {ahead_.data, read_ahead::capacity}};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        r = ::recvmsg(src_.fd(), &msg, 0);
    } else {
        r = ::recv(src_.fd(), rest.data(), rest.size(), 0);
    }
    if (r >= 0) {
        auto got = static_cast<std::size_t>(r);
        if (got > rest.size()) {
            // More than asked for: keep the extra, and the readiness (maybe more still).
            ahead_.off = 0;
            ahead_.len = static_cast<std::uint8_t>(got - rest.size());
            got = rest.size();
        } else if (got > 0 && (spill || got < rest.size())) {
            // The spill area stayed empty, or a short read: drained. The next arrival
            // raises a new edge (a tick guards a clear that comes too late).
            src_.clear_readiness(ev);
        }
        *n = k + got;  // got == 0: end of stream (after any read-ahead bytes)
        return read_step::done;
    }
    const int e = errno;
    if (would_block(e)) src_.clear_readiness(ev);
    if (k != 0) {
        // The caller gets the read-ahead bytes now; a real error waits for the next read.
        if (!would_block(e) && e != EINTR) ahead_.error = e;
        *n = k;
        return read_step::done;
    }
    if (would_block(e)) return read_step::would_block;
    if (e == EINTR) return read_step::interrupted;
    throw_errno(e, what);
}

stream_socket& stream_socket::operator=(stream_socket&& o) noexcept {
    if (this != &o) {
        close();
        src_ = std::move(o.src_);
        ahead_ = std::move(o.ahead_);
        ring_ = std::move(o.ring_);
    }
    return *this;
}

void stream_socket::close() noexcept {
    ring_.closing.store(true, std::memory_order_relaxed);
    // Under the locks: another task may be starting a read or write right now.
    detail::uring_op* r;
    detail::uring_op* w;
    {
        std::lock_guard g(ahead_.lock);
        r = ring_.rop.exchange(nullptr, std::memory_order_relaxed);
        ahead_.len = 0;
        ahead_.error = 0;
    }
    {
        std::lock_guard g(ring_.wlock);
        w = ring_.wop.exchange(nullptr, std::memory_order_relaxed);
    }
    // Cancel what is in flight before the fd goes (a waiting task wakes with ECANCELED).
    if (r) detail::uring_release(r);
    if (w) detail::uring_release(w);
    src_.close();
}

// --- io_uring path (rill/detail/uring_op.hpp) ---------------------------------------------

// A reader's or writer's claim on an op: one ref, and the op's `claimed` flag. Ended by
// the finish functions, or by this destructor when the waiting coroutine is destroyed:
// the op stays with the socket for the next reader or writer.
struct stream_socket::op_claim {
    detail::spin_lock* lock;
    detail::uring_op* op;
    op_claim(detail::spin_lock* l, detail::uring_op* o) noexcept : lock(l), op(o) {}
    op_claim(const op_claim&) = delete;
    op_claim& operator=(const op_claim&) = delete;
    ~op_claim() {
        if (op == nullptr) return;
        {
            std::lock_guard g(*lock);
            op->claimed = false;
        }
        detail::uring_unref(op);
    }
};

detail::uring_op* stream_socket::claim_held_read(bool* in_flight, bool only_done) {
    if (ring_.rop.load(std::memory_order_relaxed) == nullptr) return nullptr;
    std::lock_guard g(ahead_.lock);
    detail::uring_op* op = ring_.rop.load(std::memory_order_relaxed);
    if (op == nullptr || op->claimed) return nullptr;
    if (only_done && !detail::uring_is_done(op)) {
        *in_flight = true;
        return nullptr;
    }
    op->claimed = true;
    detail::uring_ref(op);
    return op;
}

detail::uring_op* stream_socket::ring_read_begin(std::size_t len) {
    detail::uring_ring* r = detail::current_ring();
    // io_uring off and no op left by earlier reads: the readiness path, without the lock.
    // (Another task's read starting an op right now may be missed: two readers at once
    // get the bytes in an unspecified split anyway.)
    if (r == nullptr && ring_.rop.load(std::memory_order_relaxed) == nullptr) return nullptr;
    std::lock_guard g(ahead_.lock);
    if (ring_.closing.load(std::memory_order_relaxed)) detail::io_throw_closed();
    if (ahead_.len != 0 || ahead_.error != 0) return nullptr;  // the readiness path serves those
    detail::uring_op* op = ring_.rop.load(std::memory_order_relaxed);
    if (op == nullptr) {
        if (r == nullptr || len == 0 || len >= read_ahead::max_request) return nullptr;
        op = detail::uring_recv(r, src_.fd(), std::min(len, detail::uring_max_payload));
        ring_.rop.store(op, std::memory_order_relaxed);
    } else if (op->claimed) {
        return nullptr;  // another task reads this socket now: bytes go to one or the other
    }
    op->claimed = true;
    detail::uring_ref(op);
    return op;
}

bool stream_socket::ring_read_finish(op_claim& c, std::span<std::byte> buf, std::size_t* n, const char* what) {
    detail::uring_op* op = std::exchange(c.op, nullptr);
    int res;
    {
        std::lock_guard g(ahead_.lock);
        res = op->res;
        op->claimed = false;
        const bool ours = ring_.rop.load(std::memory_order_relaxed) == op;  // false: close() released it
        if (res > 0) {
            const std::size_t k = copy_op_bytes(op, buf);
            op->off += static_cast<std::uint32_t>(k);
            *n = k;
            if (op->off == static_cast<std::uint32_t>(res) && ours) {
                ring_.rop.store(nullptr, std::memory_order_relaxed);
                detail::uring_release(op);
            }
        } else if (ours) {
            ring_.rop.store(nullptr, std::memory_order_relaxed);
            detail::uring_release(op);
        }
    }
    detail::uring_unref(op);
    if (res >= 0) {
        if (res == 0) *n = 0;
        return true;
    }
    if (res == -EINTR || res == -EAGAIN) return false;
    throw_op_error(res, what);
}

detail::uring_op* stream_socket::ring_write_begin(std::span<const std::byte> buf, bool* stale) {
    detail::uring_ring* r = detail::current_ring();
    if (r == nullptr && ring_.wop.load(std::memory_order_relaxed) == nullptr) return nullptr;  // as in reads
    std::lock_guard g(ring_.wlock);
    if (ring_.closing.load(std::memory_order_relaxed)) detail::io_throw_closed();
    detail::uring_op* op = ring_.wop.load(std::memory_order_relaxed);
    if (op == nullptr) {
        if (r == nullptr || buf.empty() || buf.size() >= read_ahead::max_request) return nullptr;
        op = detail::uring_send(r, src_.fd(), buf.first(std::min(buf.size(), detail::uring_max_payload)));
        ring_.wop.store(op, std::memory_order_relaxed);
        *stale = false;
    } else if (op->claimed) {
        return nullptr;  // another task writes this socket now: the writes interleave
    } else {
        *stale = true;  // an abandoned write's send: it goes first
    }
    op->claimed = true;
    detail::uring_ref(op);
    return op;
}

std::size_t stream_socket::ring_write_finish(op_claim& c, const char* what) {
    detail::uring_op* op = std::exchange(c.op, nullptr);
    int res;
    {
        std::lock_guard g(ring_.wlock);
        res = op->res;
        op->claimed = false;
        if (ring_.wop.load(std::memory_order_relaxed) == op) {
            ring_.wop.store(nullptr, std::memory_order_relaxed);
            detail::uring_release(op);
        }
    }
    detail::uring_unref(op);
    if (res >= 0) return static_cast<std::size_t>(res);
    throw_op_error(res, what);
}

task<std::size_t> stream_socket::read(std::span<std::byte> buf) {
    src_.check_open();
    for (;;) {
        if (detail::uring_op* op = ring_read_begin(buf.size())) {
            op_claim claim(&ahead_.lock, op);
            co_await detail::uring_wait(op);
            std::size_t n = 0;
            if (ring_read_finish(claim, buf, &n, "rill::net: read")) co_return n;
            continue;
        }
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        std::size_t n = 0;
        if (read_now(buf, ev, &n, "rill::net: read") == read_step::done) co_return n;
    }
}

task<void> stream_socket::read_exact(std::span<std::byte> buf) {
    // The readiness loop inline (not through read()): one frame per call, not two.
    src_.check_open();
    while (!buf.empty()) {
        std::size_t n = 0;
        if (detail::uring_op* op = ring_read_begin(buf.size())) {
            op_claim claim(&ahead_.lock, op);
            co_await detail::uring_wait(op);
            if (!ring_read_finish(claim, buf, &n, "rill::net: read")) continue;
            if (n == 0) throw unexpected_eof("rill::net: read_exact");
            buf = buf.subspan(n);
            continue;
        }
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        if (read_now(buf, ev, &n, "rill::net: read") != read_step::done) continue;
        if (n == 0) throw unexpected_eof("rill::net: read_exact");
        buf = buf.subspan(n);
    }
}

task<std::size_t> stream_socket::peek(std::span<std::byte> buf) {
    src_.check_open();
    // A recv in flight through the ring holds the next bytes: wait for it and show them.
    bool in_flight = false;
    if (detail::uring_op* op = claim_held_read(&in_flight)) {
        op_claim claim(&ahead_.lock, op);
        co_await detail::uring_wait(op);
        std::lock_guard g(ahead_.lock);
        const int res = op->res;
        if (res > 0) co_return copy_op_bytes(op, buf);
        if (res == 0) co_return 0;
        // An error: the next read reports it (and releases the op).
    }
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        int e = 0;
        {
            // The recv and its clear under the lock too, as read_now does: a read on another
            // thread between an unlocked check and the recv could drain the kernel into the
            // read-ahead area, and our EAGAIN would then clear the readiness of a socket with
            // bytes held in user space (found by review: peek and the next read then waited
            // for data already received).
            std::lock_guard g(ahead_.lock);
            if (const std::size_t held = ahead_.copy_to(buf); held != 0) {
                co_return held;  // read-ahead bytes come first; a peek may return fewer
            }
            const ssize_t n = ::recv(src_.fd(), buf.data(), buf.size(), MSG_PEEK);
            if (n >= 0) co_return static_cast<std::size_t>(n);
            e = errno;
            if (would_block(e)) src_.clear_readiness(ev);
        }
        if (!would_block(e) && e != EINTR) throw_errno(e, "rill::net: peek");
    }
}

task<std::size_t> stream_socket::write(std::span<const std::byte> buf) {
    src_.check_open();
    for (;;) {
        bool stale = false;
        if (detail::uring_op* op = ring_write_begin(buf, &stale)) {
            op_claim claim(&ring_.wlock, op);
            co_await detail::uring_wait(op);
            const std::size_t n = ring_write_finish(claim, "rill::net: write");
            if (!stale) co_return n;
            continue;
        }
        const detail::ready_event ev = co_await src_.ready(detail::interest_write);
        const ssize_t n = ::send(src_.fd(), buf.data(), buf.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) < buf.size()) src_.clear_readiness(ev);  // send buffer full
            co_return static_cast<std::size_t>(n);
        }
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
        } else if (e != EINTR) {
            throw_errno(e, "rill::net: write");
        }
    }
}

task<void> stream_socket::write_all(std::span<const std::byte> buf) {
    src_.check_open();
    while (!buf.empty()) {
        bool stale = false;
        if (detail::uring_op* op = ring_write_begin(buf, &stale)) {
            op_claim claim(&ring_.wlock, op);
            co_await detail::uring_wait(op);
            const std::size_t n = ring_write_finish(claim, "rill::net: write");
            if (!stale) buf = buf.subspan(n);
            continue;
        }
        const detail::ready_event ev = co_await src_.ready(detail::interest_write);
        const ssize_t n = ::send(src_.fd(), buf.data(), buf.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) < buf.size()) src_.clear_readiness(ev);  // send buffer full
            buf = buf.subspan(static_cast<std::size_t>(n));
            continue;
        }
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
        } else if (e != EINTR) {
            throw_errno(e, "rill::net: write");
        }
    }
}

task<std::size_t> stream_socket::writev(std::span<const iovec> bufs) {
    src_.check_open();
    if (ring_.wop.load(std::memory_order_relaxed) != nullptr) co_await settle_abandoned_send("rill::net: writev");
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_write);
        msghdr msg{};
        msg.msg_iov = const_cast<iovec*>(bufs.data());
        // The kernel refuses more than IOV_MAX buffers (EMSGSIZE): send the first IOV_MAX,
        // a partial write as the contract allows.
        msg.msg_iovlen = std::min<std::size_t>(bufs.size(), IOV_MAX);
        const ssize_t n = ::sendmsg(src_.fd(), &msg, MSG_NOSIGNAL);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
        } else if (e != EINTR) {
            throw_errno(e, "rill::net: writev");
        }
    }
}

std::optional<std::size_t> stream_socket::try_read(std::span<std::byte> buf) {
    src_.check_open();
    bool in_flight = false;
    if (detail::uring_op* op = claim_held_read(&in_flight, /*only_done=*/true)) {
        op_claim claim(&ahead_.lock, op);
        std::size_t n = 0;
        if (ring_read_finish(claim, buf, &n, "rill::net: try_read")) return n;
    } else if (in_flight) {
        return std::nullopt;  // the ring's recv holds the next bytes
    }
    for (;;) {
        const detail::ready_event ev = src_.ready(detail::interest_read).peek();
        if (ev.ready == 0) return std::nullopt;
        std::size_t n = 0;
        switch (read_now(buf, ev, &n, "rill::net: try_read")) {
            case read_step::done: return n;
            case read_step::would_block: return std::nullopt;
            case read_step::interrupted: break;
        }
    }
}

std::optional<std::size_t> stream_socket::try_write(std::span<const std::byte> buf) {
    src_.check_open();
    if (ring_.wop.load(std::memory_order_relaxed) != nullptr) {
        // A send of an abandoned write goes first: still in flight, we would block;
        // finished, it is settled here (its error, if any, is this call's).
        int res = 0;
        {
            std::lock_guard g(ring_.wlock);
            detail::uring_op* op = ring_.wop.load(std::memory_order_relaxed);
            if (op != nullptr) {
                if (op->claimed || !detail::uring_is_done(op)) return std::nullopt;
                res = op->res;
                ring_.wop.store(nullptr, std::memory_order_relaxed);
                detail::uring_release(op);
            }
        }
        if (res < 0) throw_op_error(res, "rill::net: try_write");
    }
    for (;;) {
        const detail::ready_event ev = src_.ready(detail::interest_write).peek();
        if (ev.ready == 0) return std::nullopt;
        const ssize_t n = ::send(src_.fd(), buf.data(), buf.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) < buf.size()) src_.clear_readiness(ev);
            return static_cast<std::size_t>(n);
        }
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
            return std::nullopt;
        }
        if (e != EINTR) throw_errno(e, "rill::net: try_write");
    }
}

task<void> stream_socket::flush() {
    src_.check_open();
    co_return;
}

task<void> stream_socket::settle_abandoned_send(const char* what) {
    // ring_write_begin with no bytes returns only an abandoned write's send.
    bool stale = false;
    while (detail::uring_op* op = ring_write_begin({}, &stale)) {
        op_claim claim(&ring_.wlock, op);
        co_await detail::uring_wait(op);
        ring_write_finish(claim, what);
    }
}

task<void> stream_socket::shutdown() {
    src_.check_open();
    // A send of an abandoned write goes out before the FIN.
    if (ring_.wop.load(std::memory_order_relaxed) != nullptr) co_await settle_abandoned_send("rill::net: shutdown");
    shutdown_write();
}

void stream_socket::shutdown_write() {
    src_.check_open();
    if (::shutdown(src_.fd(), SHUT_WR) < 0 && errno != ENOTCONN) throw_errno(errno, "rill::net: shutdown");
}

}  // namespace rill::net
