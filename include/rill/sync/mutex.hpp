// rill::sync::mutex<T>: an async mutex that owns its data (Tokio's Mutex).
//
//     rill::sync::mutex<app_state> state{app_state{}};
//     {
//         auto g = co_await state.lock();   // mutex_guard<app_state>
//         g->counter += 1;                  // may co_await while holding it
//     }                                     // unlocked here
//
// lock() waits for the lock; the guard gives access to the T and unlocks when destroyed.
// Unlike std::mutex, the guard may be held across co_await, and waiting suspends the
// task instead of blocking the worker. try_lock() does not wait. For a guard that moves
// into another task, own the mutex through a std::shared_ptr and use lock_owned(ptr):
// the owned_mutex_guard keeps the mutex alive. get_mut() and into_inner() reach the value
// without locking when nothing else uses the mutex (they throw std::logic_error if it is
// locked). Built on the batch semaphore (one permit), like Tokio's.
//
// Fairness: FIFO. Tasks get the lock in the order they started waiting; unlocking with
// waiters hands the lock straight to the first one (it resumes owning it), and a later
// lock() or try_lock() cannot overtake it.
// Cooperative budget: a lock() that succeeds at once consumes one unit of the task's
// budget; when it is spent the task first yields to its worker (without the lock) and
// then acquires it, queueing like any other waiter if it was taken meanwhile.
//
// Cancel safety: lock() is cancel-safe. Destroying a coroutine that waits in lock()
// removes it from the queue (it loses its place). If the lock was handed to it just
// before it was destroyed, it is unlocked again and goes to the next waiter.
// Resumes on: the waiting task's worker.
// Thread safety: mutex<T> is shared between tasks and threads; a guard is used by one
// task at a time and may be destroyed on any thread.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/detail/batch_semaphore.hpp"

namespace rill::sync {

template <class T>
class mutex;

/// Access to the value of a locked mutex; unlocks when destroyed.
template <class T>
class mutex_guard {
public:
    mutex_guard(mutex_guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    mutex_guard& operator=(mutex_guard&& o) noexcept {
        if (this != &o) {
            unlock();
            m_ = std::exchange(o.m_, nullptr);
        }
        return *this;
    }
    mutex_guard(const mutex_guard&) = delete;
    mutex_guard& operator=(const mutex_guard&) = delete;
    ~mutex_guard() { unlock(); }

    T& operator*() const noexcept { return m_->value_; }
    T* operator->() const noexcept { return &m_->value_; }
    T& get() const noexcept { return m_->value_; }
    /// Unlocks now (the guard becomes empty).
    void unlock() noexcept {
        if (m_ != nullptr) std::exchange(m_, nullptr)->sem_.release(1);
    }
    /// False once unlocked or moved from.
    explicit operator bool() const noexcept { return m_ != nullptr; }

private:
    friend class mutex<T>;
    explicit mutex_guard(mutex<T>* m) noexcept : m_(m) {}
    mutex<T>* m_;
};

/// A guard that keeps its shared mutex alive; it can move into another task.
template <class T>
class owned_mutex_guard {
public:
    owned_mutex_guard(owned_mutex_guard&& o) noexcept = default;
    owned_mutex_guard& operator=(owned_mutex_guard&& o) noexcept {
        if (this != &o) {
            unlock();
            m_ = std::move(o.m_);
        }
        return *this;
    }
    ~owned_mutex_guard() { unlock(); }

    T& operator*() const noexcept { return m_->value_; }
    T* operator->() const noexcept { return &m_->value_; }
    T& get() const noexcept { return m_->value_; }
    /// The mutex this guard locks.
    const std::shared_ptr<sync::mutex<T>>& mutex() const noexcept { return m_; }
    void unlock() noexcept {
        if (m_) {
            m_->sem_.release(1);
            m_.reset();
        }
    }
    explicit operator bool() const noexcept { return static_cast<bool>(m_); }

private:
    friend class sync::mutex<T>;
    explicit owned_mutex_guard(std::shared_ptr<sync::mutex<T>> m) noexcept : m_(std::move(m)) {}
    std::shared_ptr<sync::mutex<T>> m_;
};

template <class T>
class mutex {
public:
    mutex() requires std::is_default_constructible_v<T> : value_() {}
    explicit mutex(T value) : value_(std::move(value)) {}
    template <class... A>
    explicit mutex(std::in_place_t, A&&... a) : value_(std::forward<A>(a)...) {}
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    class lock_awaiter : public rill::detail::acquire_op {
    public:
        explicit lock_awaiter(mutex* m) noexcept : acquire_op(m->sem_, 1), m_(m) {}
        mutex_guard<T> await_resume() {
            finish();
            return mutex_guard<T>(m_);
        }

    private:
        mutex* m_;
    };

    /// Waits for the lock (FIFO). Cancel safety: safe (see the header comment).
    [[nodiscard]] lock_awaiter lock() noexcept { return lock_awaiter(this); }
    /// The lock if it is free now and nobody waits for it.
    std::optional<mutex_guard<T>> try_lock() noexcept {
        if (sem_.try_acquire(1) != rill::detail::acquire_status::acquired) return std::nullopt;
        return mutex_guard<T>(this);
    }
    /// True while some guard holds the lock.
    bool is_locked() const noexcept { return sem_.available() == 0; }
    /// The value, without locking: only when no guard exists and no task uses the mutex.
    /// Throws std::logic_error when it is locked.
    T& get_mut() {
        if (is_locked()) throw std::logic_error("mutex::get_mut: the mutex is locked");
        return value_;
    }
    /// Moves the value out (the mutex is no longer usable). Throws std::logic_error when locked.
    T into_inner() && {
        if (is_locked()) throw std::logic_error("mutex::into_inner: the mutex is locked");
        return std::move(value_);
    }

    // keep_alive comes first: the mutex must outlive the acquire_op, whose destructor
    // withdraws from sem_ (this awaiter may hold the last reference).
    class owned_lock_awaiter : private rill::detail::keep_alive<std::shared_ptr<mutex>>,
                               public rill::detail::acquire_op {
    public:
        explicit owned_lock_awaiter(std::shared_ptr<mutex> m) noexcept
            : rill::detail::keep_alive<std::shared_ptr<mutex>>{std::move(m)}, acquire_op(this->keep_->sem_, 1) {}
        owned_mutex_guard<T> await_resume() {
            finish();  // the op is done: nothing in it touches the mutex any more
            return owned_mutex_guard<T>(std::move(this->keep_));
        }
    };

    /// Internal (use sync::lock_owned / try_lock_owned).
    static owned_lock_awaiter make_owned_lock(std::shared_ptr<mutex> m) { return owned_lock_awaiter(std::move(m)); }
    static std::optional<owned_mutex_guard<T>> make_owned_try_lock(std::shared_ptr<mutex> m) {
        if (m->sem_.try_acquire(1) != rill::detail::acquire_status::acquired) return std::nullopt;
        return owned_mutex_guard<T>(std::move(m));
    }

private:
    friend class mutex_guard<T>;
    friend class owned_mutex_guard<T>;
    rill::detail::batch_semaphore sem_{1};
    T value_;
};

/// Locks a shared mutex; the guard keeps it alive and may move into another task.
/// Throws std::invalid_argument for a null pointer. Cancel safety: as mutex::lock.
template <class T>
[[nodiscard]] typename mutex<T>::owned_lock_awaiter lock_owned(std::shared_ptr<mutex<T>> m) {
    if (!m) throw std::invalid_argument("lock_owned: null mutex");
    return mutex<T>::make_owned_lock(std::move(m));
}

/// try_lock for a shared mutex.
template <class T>
std::optional<owned_mutex_guard<T>> try_lock_owned(std::shared_ptr<mutex<T>> m) {
    if (!m) throw std::invalid_argument("try_lock_owned: null mutex");
    return mutex<T>::make_owned_try_lock(std::move(m));
}

}  // namespace rill::sync
