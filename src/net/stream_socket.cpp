// stream_socket: the readiness loop of DESIGN §6 around recv/send/sendmsg.
#include "rill/net/stream_socket.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <mutex>
#include <utility>
#include <system_error>

namespace rill::net {

namespace {
[[noreturn]] void throw_errno(int e, const char* what) { throw std::system_error(e, std::generic_category(), what); }
bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK; }
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

task<std::size_t> stream_socket::read(std::span<std::byte> buf) {
    src_.check_open();
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        std::size_t n = 0;
        if (read_now(buf, ev, &n, "rill::net: read") == read_step::done) co_return n;
    }
}

task<void> stream_socket::read_exact(std::span<std::byte> buf) {
    // The readiness loop inline (not through read()): one frame per call, not two.
    src_.check_open();
    while (!buf.empty()) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        std::size_t n = 0;
        if (read_now(buf, ev, &n, "rill::net: read") != read_step::done) continue;
        if (n == 0) throw unexpected_eof("rill::net: read_exact");
        buf = buf.subspan(n);
    }
}

task<std::size_t> stream_socket::peek(std::span<std::byte> buf) {
    src_.check_open();
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        std::size_t held = 0;
        {
            std::lock_guard g(ahead_.lock);
            held = ahead_.copy_to(buf);  // read-ahead bytes come first; a peek may return fewer
        }
        if (held != 0) co_return held;
        const ssize_t n = ::recv(src_.fd(), buf.data(), buf.size(), MSG_PEEK);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
        } else if (e != EINTR) {
            throw_errno(e, "rill::net: peek");
        }
    }
}

task<std::size_t> stream_socket::write(std::span<const std::byte> buf) {
    src_.check_open();
    for (;;) {
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
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_write);
        msghdr msg{};
        msg.msg_iov = const_cast<iovec*>(bufs.data());
        msg.msg_iovlen = bufs.size();
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

task<void> stream_socket::shutdown() {
    shutdown_write();
    co_return;
}

void stream_socket::shutdown_write() {
    src_.check_open();
    if (::shutdown(src_.fd(), SHUT_WR) < 0 && errno != ENOTCONN) throw_errno(errno, "rill::net: shutdown");
}

}  // namespace rill::net
