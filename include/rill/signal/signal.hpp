// rill::signal: Unix signals as awaitables (Tokio's tokio::signal).
//
//     co_await rill::signal::ctrl_c();                       // once, on SIGINT
//
//     rill::signal::signal_stream term = rill::signal::signal(SIGTERM);
//     for (;;) { co_await term.recv(); reload(); }           // every SIGTERM
//
// signal(signo) returns a signal_stream that sees every delivery of `signo` from its
// creation on. recv() completes when a delivery happened that this stream has not
// reported yet: deliveries that arrive while nobody waits are remembered (several of
// them coalesce into one, as Tokio), so a loop of recv() never misses that "the signal
// came". Many streams may exist for one signal, and many tasks may wait at once on
// the same or different streams: one delivery wakes all of them. ctrl_c() is a
// one-shot wait for SIGINT, listening from the moment ctrl_c() is called (so a
// SIGINT between the call and the co_await is not missed).
//
// The first stream for a signal installs rill's handler for it (process-wide, for the
// rest of the process: dropping streams does not restore the old disposition, as in
// Tokio). SIGKILL, SIGSTOP, SIGILL, SIGFPE, SIGSEGV and numbers outside 1..NSIG-1
// throw std::system_error(EINVAL).
//
// SIGPIPE: every rill runtime, when built, sets SIGPIPE to ignored unless the program
// installed its own handler, so a write to a closed socket or pipe fails with EPIPE
// (std::system_error) instead of killing the process.
//
// Implementation (see src/signal/signal.cpp): the handler only stores a flag and writes
// one byte to a self-pipe (async-signal-safe); a dedicated thread reads the pipe and
// wakes the waiters. That thread can move onto the I/O driver (register the pipe's read
// end with epoll) once the driver exists; the public API stays the same.
//
// fork(): like the runtime itself, rill::signal's state (dispatcher thread, streams) does
// not carry into a forked child; a child that wants signals must exec first.
//
// Cancel safety: recv() is cancel-safe: a delivery that woke a recv whose task was then
// destroyed is not consumed; the stream's next recv() completes at once.
// Resumes on: the awaiting task's worker.
// Thread safety: signal_stream may be moved between threads; recv() may be awaited by
// several tasks at once; the stream must outlive its recv() awaitables.
#pragma once

#include <coroutine>
#include <cstdint>

#include "rill/detail/waiter.hpp"
#include "rill/task.hpp"

namespace rill::signal {

class signal_stream;

/// The awaitable of signal_stream::recv.
class [[nodiscard]] recv_awaiter {
public:
    explicit recv_awaiter(signal_stream& s) noexcept : stream_(&s) {}
    /// Only a recv that is not waiting may move.
    recv_awaiter(recv_awaiter&& o) noexcept : stream_(o.stream_) {}
    recv_awaiter(const recv_awaiter&) = delete;
    recv_awaiter& operator=(const recv_awaiter&) = delete;
    ~recv_awaiter();

    bool await_ready();
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return suspend(rill::detail::counted_node(h));
    }
    void await_resume() noexcept;

    // Registry links (guarded by the registry's mutex; see signal.cpp).
    recv_awaiter* prev_ = nullptr;
    recv_awaiter* next_ = nullptr;
    rill::detail::wake_node* node_ = nullptr;
    std::uint64_t version_ = 0;  // the delivery that woke us
    bool woken_ = false;

private:
    bool suspend(rill::detail::wake_node* node);
    signal_stream* stream_;
    bool waiting_ = false;
};

/// Deliveries of one signal, from the stream's creation on.
class signal_stream {
public:
    /// Installs rill's handler for `signo` if needed. Throws std::system_error(EINVAL)
    /// for a signal that cannot be listened to.
    explicit signal_stream(int signo);
    signal_stream(signal_stream&&) noexcept = default;
    signal_stream& operator=(signal_stream&&) noexcept = default;

    /// Completes at the next delivery not reported yet by this stream.
    recv_awaiter recv() noexcept { return recv_awaiter(*this); }
    int signo() const noexcept { return signo_; }

private:
    friend class recv_awaiter;
    int signo_;
    std::uint64_t seen_;  // deliveries of signo_ already reported (the registry's version)
};

/// A stream of `signo` deliveries (Tokio's signal(SignalKind)).
inline signal_stream signal(int signo) { return signal_stream(signo); }

/// Completes at the next SIGINT (listening starts when ctrl_c() is called).
task<void> ctrl_c();

}  // namespace rill::signal
