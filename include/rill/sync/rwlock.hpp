// rill::sync::rwlock<T>: an async reader-writer lock that owns its data (Tokio's RwLock).
//
//     rill::sync::rwlock<std::map<std::string, int>> cache;
//     { auto r = co_await cache.read();  use(r->at("k")); }     // many readers at once
//     { auto w = co_await cache.write(); (*w)["k"] = 1; }       // one writer, no readers
//
// read() gives an rwlock_read_guard (const access) shared with other readers, write()
// an rwlock_write_guard (exclusive). try_read()/try_write() do not wait. The lock is a
// batch semaphore of max_readers permits: a reader takes one, a writer all of them, so
// at most max_readers readers hold it at once (constructor parameter, default
// default_max_readers, Tokio's u32::MAX >> 3). Owned guards (read_owned / write_owned
// on a std::shared_ptr<rwlock<T>>) keep the lock alive and may move into another task.
// A write guard can downgrade() to a read guard without letting a writer in between.
//
// Fairness: FIFO and write-preferring. Requests are served in arrival order; a writer
// waiting at the head blocks readers that arrive after it (even while other readers
// still hold the lock), so a stream of readers cannot starve a writer.
// Cooperative budget: as mutex::lock, one unit per read/write that succeeds at once.
//
// Cancel safety: read() and write() are cancel-safe. Destroying a coroutine waiting in
// them removes it from the queue; a writer destroyed at the head gives back the reader
// slots it had already collected, and a lock handed to a waiter just before it was
// destroyed goes on to the next waiters.
// Resumes on: the waiting task's worker.
// Thread safety: shared between tasks and threads; a guard is used by one task at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/detail/batch_semaphore.hpp"

namespace rill::sync {

template <class T>
class rwlock;

namespace detail_rw {

/// A guard over `Ptr` (a raw or shared pointer to the rwlock) holding `Permits` permits.
template <class T, class Ptr, bool Write>
class guard {
public:
    guard(guard&& o) noexcept : lock_(std::move(o.lock_)) { o.lock_ = Ptr(); }
    guard& operator=(guard&& o) noexcept {
        if (this != &o) {
            unlock();
            lock_ = std::move(o.lock_);
            o.lock_ = Ptr();
        }
        return *this;
    }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { unlock(); }

    using ref = std::conditional_t<Write, T&, const T&>;
    using ptr = std::conditional_t<Write, T*, const T*>;
    ref operator*() const noexcept { return lock_->value_; }
    ptr operator->() const noexcept { return &lock_->value_; }
    ref get() const noexcept { return lock_->value_; }
    /// Releases the lock now.
    void unlock() noexcept {
        if (lock_) {
            lock_->sem_.release(Write ? lock_->max_readers_ : 1);
            lock_ = Ptr();
        }
    }
    explicit operator bool() const noexcept { return static_cast<bool>(lock_); }

    /// Write guards only: turns the write lock into a read lock atomically (no writer can
    /// get in between); the waiting readers at the head of the queue may then proceed.
    guard<T, Ptr, false> downgrade() && requires Write {
        Ptr p = std::move(lock_);
        lock_ = Ptr();
        p->sem_.release(p->max_readers_ - 1);
        return guard<T, Ptr, false>(std::move(p));
    }

private:
    friend class rwlock<T>;
    template <class, class, bool>
    friend class guard;
    explicit guard(Ptr p) noexcept : lock_(std::move(p)) {}
    Ptr lock_;
};

}  // namespace detail_rw

template <class T>
using rwlock_read_guard = detail_rw::guard<T, rwlock<T>*, false>;
template <class T>
using rwlock_write_guard = detail_rw::guard<T, rwlock<T>*, true>;
template <class T>
using owned_rwlock_read_guard = detail_rw::guard<T, std::shared_ptr<rwlock<T>>, false>;
template <class T>
using owned_rwlock_write_guard = detail_rw::guard<T, std::shared_ptr<rwlock<T>>, true>;

template <class T>
class rwlock {
public:
    /// Tokio's MAX_READS (u32::MAX >> 3): the default and largest max_readers.
    static constexpr std::uint32_t default_max_readers = 0xFFFF'FFFFu >> 3;

    rwlock() requires std::is_default_constructible_v<T> : max_readers_(default_max_readers), sem_(default_max_readers), value_() {}
    /// Throws std::invalid_argument when max_readers is 0 or above default_max_readers.
    explicit rwlock(T value, std::uint32_t max_readers = default_max_readers)
        : max_readers_(checked(max_readers)), sem_(max_readers), value_(std::move(value)) {}
    rwlock(const rwlock&) = delete;
    rwlock& operator=(const rwlock&) = delete;

    // keep_alive comes first: an owned awaiter's rwlock must outlive the acquire_op,
    // whose destructor withdraws from sem_ (the awaiter may hold the last reference).
    template <class Guard, class Ptr>
    class awaiter : private rill::detail::keep_alive<Ptr>, public rill::detail::acquire_op {
    public:
        awaiter(Ptr p, std::size_t n) noexcept
            : rill::detail::keep_alive<Ptr>{std::move(p)}, acquire_op(this->keep_->sem_, n) {}
        Guard await_resume() {
            finish();  // the op is done: nothing in it touches the lock any more
            return Guard(std::move(this->keep_));
        }
    };
    using read_awaiter = awaiter<rwlock_read_guard<T>, rwlock*>;
    using write_awaiter = awaiter<rwlock_write_guard<T>, rwlock*>;
    using owned_read_awaiter = awaiter<owned_rwlock_read_guard<T>, std::shared_ptr<rwlock>>;
    using owned_write_awaiter = awaiter<owned_rwlock_write_guard<T>, std::shared_ptr<rwlock>>;

    /// Waits for shared access. Cancel safety: safe (see the header comment).
    [[nodiscard]] read_awaiter read() noexcept { return read_awaiter(this, 1); }
    /// Waits for exclusive access. Cancel safety: safe (see the header comment).
    [[nodiscard]] write_awaiter write() noexcept { return write_awaiter(this, max_readers_); }
    std::optional<rwlock_read_guard<T>> try_read() noexcept {
        if (sem_.try_acquire(1) != rill::detail::acquire_status::acquired) return std::nullopt;
        return rwlock_read_guard<T>(this);
    }
    std::optional<rwlock_write_guard<T>> try_write() noexcept {
        if (sem_.try_acquire(max_readers_) != rill::detail::acquire_status::acquired) return std::nullopt;
        return rwlock_write_guard<T>(this);
    }
    std::uint32_t max_readers() const noexcept { return max_readers_; }
    /// The value without locking: only when unused. Throws std::logic_error when locked.
    T& get_mut() {
        if (sem_.available() != max_readers_) throw std::logic_error("rwlock::get_mut: the lock is held");
        return value_;
    }
    /// Moves the value out. Throws std::logic_error when locked.
    T into_inner() && {
        if (sem_.available() != max_readers_) throw std::logic_error("rwlock::into_inner: the lock is held");
        return std::move(value_);
    }

    /// Internal (use sync::read_owned and friends).
    static owned_read_awaiter make_read_owned(std::shared_ptr<rwlock> p) { return owned_read_awaiter(std::move(p), 1); }
    static owned_write_awaiter make_write_owned(std::shared_ptr<rwlock> p) {
        const std::size_t n = p->max_readers_;
        return owned_write_awaiter(std::move(p), n);
    }
    template <bool Write>
    static auto make_try_owned(std::shared_ptr<rwlock> p)
        -> std::optional<detail_rw::guard<T, std::shared_ptr<rwlock>, Write>> {
        if (p->sem_.try_acquire(Write ? p->max_readers_ : 1) != rill::detail::acquire_status::acquired) return std::nullopt;
        return detail_rw::guard<T, std::shared_ptr<rwlock>, Write>(std::move(p));
    }

private:
    template <class, class, bool>
    friend class detail_rw::guard;
    static std::uint32_t checked(std::uint32_t n) {
        if (n == 0 || n > default_max_readers) throw std::invalid_argument("rwlock: max_readers out of range");
        return n;
    }
    std::uint32_t max_readers_;
    rill::detail::batch_semaphore sem_;
    T value_;
};

/// Shared access to a shared rwlock; the guard keeps it alive. Cancel safety: safe.
template <class T>
[[nodiscard]] typename rwlock<T>::owned_read_awaiter read_owned(std::shared_ptr<rwlock<T>> p) {
    if (!p) throw std::invalid_argument("read_owned: null rwlock");
    return rwlock<T>::make_read_owned(std::move(p));
}
/// Exclusive access to a shared rwlock; the guard keeps it alive. Cancel safety: safe.
template <class T>
[[nodiscard]] typename rwlock<T>::owned_write_awaiter write_owned(std::shared_ptr<rwlock<T>> p) {
    if (!p) throw std::invalid_argument("write_owned: null rwlock");
    return rwlock<T>::make_write_owned(std::move(p));
}
template <class T>
std::optional<owned_rwlock_read_guard<T>> try_read_owned(std::shared_ptr<rwlock<T>> p) {
    if (!p) throw std::invalid_argument("try_read_owned: null rwlock");
    return rwlock<T>::template make_try_owned<false>(std::move(p));
}
template <class T>
std::optional<owned_rwlock_write_guard<T>> try_write_owned(std::shared_ptr<rwlock<T>> p) {
    if (!p) throw std::invalid_argument("try_write_owned: null rwlock");
    return rwlock<T>::template make_try_owned<true>(std::move(p));
}

}  // namespace rill::sync
