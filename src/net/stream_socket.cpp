// stream_socket: the readiness loop of DESIGN §6 around recv/send/sendmsg.
#include "rill/net/stream_socket.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace rill::net {

namespace {
[[noreturn]] void throw_errno(int e, const char* what) { throw std::system_error(e, std::generic_category(), what); }
bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK; }
}  // namespace

task<std::size_t> stream_socket::read(std::span<std::byte> buf) {
    src_.check_open();
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        const ssize_t n = ::recv(src_.fd(), buf.data(), buf.size(), 0);
        if (n >= 0) {
            // A short read drained the socket: the next read would say EAGAIN, and the
            // next arrival raises a new edge (a tick guards a clear that comes too late).
            if (n > 0 && static_cast<std::size_t>(n) < buf.size()) src_.clear_readiness(ev);
            co_return static_cast<std::size_t>(n);
        }
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
        } else if (e != EINTR) {
            throw_errno(e, "rill::net: read");
        }
    }
}

task<void> stream_socket::read_exact(std::span<std::byte> buf) {
    // The readiness loop inline (not through read()): one frame per call, not two.
    src_.check_open();
    while (!buf.empty()) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
        const ssize_t n = ::recv(src_.fd(), buf.data(), buf.size(), 0);
        if (n > 0) {
            if (static_cast<std::size_t>(n) < buf.size()) src_.clear_readiness(ev);
            buf = buf.subspan(static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) throw unexpected_eof("rill::net: read_exact");
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
        } else if (e != EINTR) {
            throw_errno(e, "rill::net: read");
        }
    }
}

task<std::size_t> stream_socket::peek(std::span<std::byte> buf) {
    src_.check_open();
    for (;;) {
        const detail::ready_event ev = co_await src_.ready(detail::interest_read);
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
        const ssize_t n = ::recv(src_.fd(), buf.data(), buf.size(), 0);
        if (n >= 0) {
            if (n > 0 && static_cast<std::size_t>(n) < buf.size()) src_.clear_readiness(ev);
            return static_cast<std::size_t>(n);
        }
        const int e = errno;
        if (would_block(e)) {
            src_.clear_readiness(ev);
            return std::nullopt;
        }
        if (e != EINTR) throw_errno(e, "rill::net: try_read");
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
