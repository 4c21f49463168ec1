// rill::sync::notify: wakes one waiting task, or all of them (Tokio's Notify).
//
//     rill::sync::notify n;
//     // waiter:                       // notifier:
//     co_await n.notified();           n.notify_one();
//
// notify_one() wakes the longest-waiting task; if none is waiting it stores a single
// permit, so the next notified() completes at once (several notify_one calls with no
// waiter still store one permit). notify_waiters() wakes every notified() that exists
// now — including ones created but not yet awaited — and stores no permit.
// notified() is lazy like every awaitable; `enable()` registers it without awaiting,
// so a notify_one() between enable() and co_await is not missed.
//
// Cancel safety: destroying a notified() that was chosen by notify_one() but had not
// resumed yet hands the notification on to the next waiter (or back as the permit):
// no notification is lost. Destroying a waiting one just removes it.
// Resumes on: the waiting task's worker.
// A notified() may be moved, also after enable() (it keeps its place in the queue).
// Thread safety: notify_one/notify_waiters from any thread; each notified() belongs to
// one task.
#pragma once

#include <coroutine>
#include <cstdint>
#include <mutex>

#include "rill/detail/waiter.hpp"

namespace rill::sync {

class notify;

class notified {
public:
    notified(const notified&) = delete;
    notified& operator=(const notified&) = delete;
    notified(notified&& o) noexcept;
    ~notified();

    /// Registers this waiter now, so notifications from here on reach it. Returns true
    /// when it is already notified (awaiting it completes at once).
    bool enable();

    bool await_ready();
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return suspend(detail::counted_node(h));
    }
    void await_resume() noexcept { state_ = done; }

private:
    friend class notify;
    enum state_t : std::uint8_t { init, waiting, done };
    enum how_t : std::uint8_t { none, one, all };
    explicit notified(notify& n) noexcept;
    bool suspend(detail::wake_node* node);  // takes the counted node

    notify* notify_;
    std::uint64_t calls_at_creation_;
    notified* prev_ = nullptr;
    notified* next_ = nullptr;
    detail::wake_node* waker_ = nullptr;  // counted, guarded by notify_->mutex_
    state_t state_ = init;
    how_t how_ = none;  // guarded by notify_->mutex_
};

class notify {
public:
    notify() = default;
    notify(const notify&) = delete;
    notify& operator=(const notify&) = delete;
    ~notify() = default;

    /// Wakes one waiter, or stores a permit if nobody waits.
    void notify_one();
    /// Wakes every waiter that exists now; stores no permit.
    void notify_waiters();
    /// A waiter for the next notification (awaitable).
    [[nodiscard]] sync::notified notified() noexcept { return sync::notified(*this); }

private:
    friend class sync::notified;
    void push_back(sync::notified* w) noexcept;
    void unlink(sync::notified* w) noexcept;
    /// Under mutex_: picks the first waiter, or stores the permit. Returns the node to wake.
    detail::wake_node* notify_one_locked() noexcept;

    std::mutex mutex_;
    sync::notified* head_ = nullptr;
    sync::notified* tail_ = nullptr;
    std::uint64_t waiters_calls_ = 0;  // notify_waiters() calls so far
    bool permit_ = false;
};

}  // namespace rill::sync
