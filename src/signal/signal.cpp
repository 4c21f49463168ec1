// rill::signal: sigaction handler -> self-pipe -> a dispatcher thread -> waiters.
//
// Design block.
// - The handler (any thread, async-signal context) does two async-signal-safe things:
//   pending[signo].store(true) on a lock-free atomic, and write(2) of one byte to the
//   non-blocking write end of a pipe. The flag is the truth; the byte is only a
//   wake-up, so a full pipe (the byte dropped) loses nothing.
// - The dispatcher thread blocks in read(2) on the pipe. After each read it takes
//   every pending flag (exchange false) and calls deliver(signo).
// - deliver: under the registry mutex, ++version[signo], and every recv_awaiter linked
//   on that signal is unlinked, marked woken_ with version_ = the new version, and its
//   counted node taken; the nodes are woken after unlock.
// - A signal_stream remembers `seen_`, the version it reported last. recv() is ready
//   when version[signo] != seen_ (so deliveries while nobody waits are remembered,
//   coalesced). A woken recv sets seen_ = version_ when it resumes; one destroyed
//   before resuming leaves seen_ alone, so the delivery is still reported.
// - recv_awaiter's destructor unlinks (or drops the taken-but-unwoken node) under the
//   mutex, so no wake can reach a destroyed awaiter.
// The registry is allocated once and never freed: the dispatcher thread runs for the
// rest of the process and must never see it destroyed by static destructors.
// Later: the pipe's read end can be registered with the I/O driver instead of the
// dispatcher thread.
#include "rill/signal/signal.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "signal/sigpipe.hpp"

namespace rill::signal {

namespace {

constexpr int max_signal = NSIG;

std::atomic<int> g_pipe_write{-1};
std::array<std::atomic<bool>, max_signal> g_pending{};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

extern "C" void rill_signal_handler(int signo) {
    const int saved = errno;
    if (signo > 0 && signo < max_signal) g_pending[static_cast<std::size_t>(signo)].store(true);
    const int fd = g_pipe_write.load();
    if (fd >= 0) {
        const unsigned char b = static_cast<unsigned char>(signo);
        [[maybe_unused]] const ssize_t n = ::write(fd, &b, 1);
    }
    errno = saved;
}

struct slot {
    std::uint64_t version = 0;
    recv_awaiter* head = nullptr;
    bool installed = false;
};

struct registry {
    std::mutex mutex;
    std::array<slot, max_signal> slots{};
    int pipe_read = -1;
    bool started = false;
};

registry& reg() {
    static registry* r = new registry;  // never freed (see the design block)
    return *r;
}

void deliver(int signo) {
    registry& r = reg();
    std::vector<rill::detail::wake_node*> nodes;
    {
        std::lock_guard lock(r.mutex);
        slot& s = r.slots[static_cast<std::size_t>(signo)];
        ++s.version;
        while (recv_awaiter* w = s.head) {
            s.head = w->next_;
            if (s.head) s.head->prev_ = nullptr;
            w->prev_ = w->next_ = nullptr;
            w->woken_ = true;
            w->version_ = s.version;
            if (rill::detail::wake_node* n = std::exchange(w->node_, nullptr)) nodes.push_back(n);
        }
    }
    for (rill::detail::wake_node* n : nodes) rill::detail::wake_by_value(n);
}

void dispatcher(int fd) {
    ::pthread_setname_np(::pthread_self(), "rill-signal");
    unsigned char buf[128];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the pipe is never closed; stop if it is anyway
        for (int s = 1; s < max_signal; ++s)
            if (g_pending[static_cast<std::size_t>(s)].exchange(false)) deliver(s);
    }
}

/// Under r.mutex: creates the pipe and the dispatcher on first use.
void ensure_started(registry& r) {
    if (r.started) return;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "rill::signal: pipe2");
    const int fl = ::fcntl(fds[1], F_GETFL);
    ::fcntl(fds[1], F_SETFL, fl | O_NONBLOCK);
    r.pipe_read = fds[0];
    g_pipe_write.store(fds[1]);
    // The dispatcher must not run rill's handler itself while blocked in read: block
    // every signal on it (handlers then run on the other threads).
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        std::thread(dispatcher, fds[0]).detach();
    } catch (...) {
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    r.started = true;
}

bool forbidden(int signo) {
    return signo <= 0 || signo >= max_signal || signo == SIGKILL || signo == SIGSTOP || signo == SIGILL ||
           signo == SIGFPE || signo == SIGSEGV;
}

void unlink(slot& s, recv_awaiter* w) noexcept {
    if (w->prev_) {
        w->prev_->next_ = w->next_;
    } else {
        s.head = w->next_;
    }
    if (w->next_) w->next_->prev_ = w->prev_;
    w->prev_ = w->next_ = nullptr;
}

}  // namespace

signal_stream::signal_stream(int signo) : signo_(signo) {
    if (forbidden(signo))
        throw std::system_error(EINVAL, std::generic_category(),
                                "rill::signal: signal " + std::to_string(signo) + " cannot be listened to");
    registry& r = reg();
    std::lock_guard lock(r.mutex);
    ensure_started(r);
    slot& s = r.slots[static_cast<std::size_t>(signo)];
    if (!s.installed) {
        struct sigaction sa {};
        sa.sa_handler = &rill_signal_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (::sigaction(signo, &sa, nullptr) != 0)
            throw std::system_error(errno, std::generic_category(),
                                    "rill::signal: sigaction(" + std::to_string(signo) + ")");
        s.installed = true;
    }
    seen_ = s.version;
}

recv_awaiter::~recv_awaiter() {
    if (!waiting_) return;
    rill::detail::wake_node* mine = nullptr;
    {
        registry& r = reg();
        std::lock_guard lock(r.mutex);
        if (!woken_) unlink(r.slots[static_cast<std::size_t>(stream_->signo_)], this);
        mine = std::exchange(node_, nullptr);
    }
    rill::detail::drop_node(mine);
}

bool recv_awaiter::await_ready() {
    registry& r = reg();
    std::lock_guard lock(r.mutex);
    const std::uint64_t v = r.slots[static_cast<std::size_t>(stream_->signo_)].version;
    if (v != stream_->seen_) {
        stream_->seen_ = v;
        return true;
    }
    return false;
}

bool recv_awaiter::suspend(rill::detail::wake_node* node) {
    registry& r = reg();
    std::unique_lock lock(r.mutex);
    slot& s = r.slots[static_cast<std::size_t>(stream_->signo_)];
    if (s.version != stream_->seen_) {
        stream_->seen_ = s.version;
        lock.unlock();
        rill::detail::drop_node(node);
        return false;
    }
    prev_ = nullptr;
    next_ = s.head;
    if (s.head) s.head->prev_ = this;
    s.head = this;
    node_ = node;
    waiting_ = true;
    return true;
}

void recv_awaiter::await_resume() noexcept {
    if (!waiting_) return;
    // Woken by deliver (which wrote version_ before the wake that resumed us).
    waiting_ = false;
    // Under the registry's lock: other tasks awaiting the same stream read and write
    // seen_ in await_ready/suspend, under it.
    std::lock_guard lock(reg().mutex);
    if (version_ > stream_->seen_) stream_->seen_ = version_;
}

namespace {
task<void> wait_once(signal_stream s) { co_await s.recv(); }
}  // namespace

task<void> ctrl_c() { return wait_once(signal_stream(SIGINT)); }

namespace detail {

void ignore_sigpipe_by_default() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) != 0) return;
        const bool user_set = (old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL;
        if (user_set) return;  // a handler, or already SIG_IGN: leave it
        struct sigaction ign {};
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        ::sigaction(SIGPIPE, &ign, nullptr);
    });
}

}  // namespace detail

}  // namespace rill::signal
