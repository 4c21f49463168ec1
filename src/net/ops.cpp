// accept with back-off, and datagram send/recv (see ops.hpp).
#include "net/ops.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

#include "net/sys.hpp"
#include "rill/time/sleep.hpp"
#include "runtime/context.hpp"
#include "runtime/runtime_inner.hpp"

namespace rill::net::ops {

namespace {
bool time_enabled() noexcept {
    rill::detail::runtime_inner* rt = rill::detail::current_runtime();
    return rt != nullptr && rt->time != nullptr;
}
bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK; }
}  // namespace

task<int> accept_fd(const detail::io_source& src, sockaddr_storage* ss, socklen_t* len,
                    std::atomic<std::uint64_t>* backoffs, std::atomic<bool>* reported) {
    src.check_open();
    std::chrono::milliseconds backoff{0};
    const socklen_t cap = *len;
    for (;;) {
        const detail::ready_event ev = co_await src.ready(detail::interest_read);
        *len = cap;
        const int fd = ::accept4(src.fd(), reinterpret_cast<sockaddr*>(ss), len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) co_return fd;
        const int e = errno;
        if (would_block(e)) {
            src.clear_readiness(ev);
            continue;
        }
        if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            // Out of descriptors (or memory): the connection stays queued and epoll will not
            // say so again. Sleep and retry (1 ms doubling to 1 s) instead of spinning.
            if (!time_enabled()) sys::throw_errno(e, "rill::net: accept (enable_time() lets the listener back off)");
            if (!reported->exchange(true, std::memory_order_relaxed)) {  // several tasks may accept
                std::fprintf(stderr, "rill::net: accept: %s; backing off until descriptors are freed\n",
                             std::strerror(e));
            }
            backoff = backoff.count() == 0 ? std::chrono::milliseconds(1)
                                           : std::min(backoff * 2, std::chrono::milliseconds(1000));
            backoffs->fetch_add(1, std::memory_order_relaxed);
            co_await rill::time::sleep(backoff);
            continue;
        }
        sys::throw_errno(e, "rill::net: accept");
    }
}

task<std::size_t> recv_from(const detail::io_source& src, std::span<std::byte> buf, sockaddr_storage* from,
                            socklen_t* from_len) {
    src.check_open();
    const socklen_t cap = from_len ? *from_len : 0;
    for (;;) {
        const detail::ready_event ev = co_await src.ready(detail::interest_read);
        if (from_len) *from_len = cap;
        const ssize_t n = ::recvfrom(src.fd(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(from), from_len);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        const int e = errno;
        if (would_block(e)) {
            src.clear_readiness(ev);
        } else if (e != EINTR) {
            sys::throw_errno(e, "rill::net: recv");
        }
    }
}

task<std::size_t> send_to(const detail::io_source& src, std::span<const std::byte> buf, const sockaddr* to,
                          socklen_t to_len) {
    src.check_open();
    for (;;) {
        const detail::ready_event ev = co_await src.ready(detail::interest_write);
        const ssize_t n = ::sendto(src.fd(), buf.data(), buf.size(), MSG_NOSIGNAL, to, to_len);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        const int e = errno;
        if (would_block(e)) {
            src.clear_readiness(ev);
        } else if (e != EINTR) {
            sys::throw_errno(e, "rill::net: send");
        }
    }
}

}  // namespace rill::net::ops
