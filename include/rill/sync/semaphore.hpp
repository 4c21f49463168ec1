// rill::sync::semaphore: a counting semaphore with FIFO waiters (Tokio's Semaphore).
//
//     rill::sync::semaphore sem(3);                 // at most 3 downloads at once
//     auto permit = co_await sem.acquire();         // semaphore_permit (RAII)
//     co_await download(url);
//     // permit released here
//
// acquire(n) waits until n permits are free and returns a permit guard that gives them
// back when destroyed (forget() keeps them out for good). try_acquire(n) does not wait.
// add_permits(n) adds permits; available_permits() reads the count; close() makes every
// waiting and later acquire throw rill::sync::acquire_error (permits held stay valid,
// try_acquire reports try_acquire_error::closed). For a permit that must move into
// another task, share the semaphore through a std::shared_ptr and use
// `acquire_owned(ptr, n)`: the owned_semaphore_permit keeps the semaphore alive.
//
// Fairness: strict FIFO. Waiters are served in arrival order; a request for many permits
// at the head of the queue collects them as they come back (keeping a partial grant) and
// smaller requests behind it wait their turn, so it is never starved. A non-waiting
// acquire never overtakes a waiter.
//
// Cancel safety: acquire() is cancel-safe. Destroying a coroutine that waits in
// acquire() removes it from the queue and passes on the permits it had been partially
// granted; permits granted to it in full just before it was destroyed are released to
// the next waiters. Nothing is lost, and its place in the queue is given up.
// Resumes on: the waiting task's worker.
// Thread safety: every member may be used from any thread; permits may be released on
// another thread than the one that acquired them.
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <stdexcept>
#include <utility>

#include "rill/detail/batch_semaphore.hpp"
#include "rill/sync/acquire_error.hpp"

namespace rill::sync {

/// Why a try_acquire failed.
enum class try_acquire_error { closed, no_permits };

class semaphore;

/// Permits borrowed from a semaphore; released when destroyed.
class semaphore_permit {
public:
    semaphore_permit() noexcept = default;
    semaphore_permit(semaphore_permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    semaphore_permit& operator=(semaphore_permit&& o) noexcept {
        if (this != &o) {
            reset();
            sem_ = std::exchange(o.sem_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~semaphore_permit() { reset(); }

    /// How many permits this guard holds.
    std::size_t num_permits() const noexcept { return n_; }
    /// Keeps the permits out of the semaphore for good (they are not released).
    void forget() noexcept {
        sem_ = nullptr;
        n_ = 0;
    }
    /// Takes over the permits of `other` (from the same semaphore).
    void merge(semaphore_permit&& other);
    /// Releases the permits now.
    void release() noexcept { reset(); }

private:
    friend class semaphore;
    semaphore_permit(rill::detail::batch_semaphore* s, std::size_t n) noexcept : sem_(s), n_(n) {}
    void reset() noexcept {
        if (sem_ != nullptr) std::exchange(sem_, nullptr)->release(std::exchange(n_, 0));
    }
    rill::detail::batch_semaphore* sem_ = nullptr;
    std::size_t n_ = 0;
};

/// Permits that keep their (shared) semaphore alive: can move into another task.
class owned_semaphore_permit {
public:
    owned_semaphore_permit() noexcept = default;
    owned_semaphore_permit(std::shared_ptr<sync::semaphore> s, std::size_t n) noexcept : sem_(std::move(s)), n_(n) {}
    owned_semaphore_permit(owned_semaphore_permit&& o) noexcept
        : sem_(std::move(o.sem_)), n_(std::exchange(o.n_, 0)) {}
    owned_semaphore_permit& operator=(owned_semaphore_permit&& o) noexcept {
        if (this != &o) {
            reset();
            sem_ = std::move(o.sem_);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~owned_semaphore_permit() { reset(); }

    std::size_t num_permits() const noexcept { return n_; }
    /// The semaphore these permits belong to.
    const std::shared_ptr<sync::semaphore>& semaphore() const noexcept { return sem_; }
    void forget() noexcept {
        sem_.reset();
        n_ = 0;
    }
    void merge(owned_semaphore_permit&& other);
    void release() noexcept { reset(); }

private:
    inline void reset() noexcept;
    std::shared_ptr<sync::semaphore> sem_;
    std::size_t n_ = 0;
};

class semaphore {
public:
    /// The most permits a semaphore can hold.
    static constexpr std::size_t max_permits = rill::detail::batch_semaphore::max_permits;

    /// Throws std::invalid_argument above max_permits.
    explicit semaphore(std::size_t permits) : sem_(permits) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// Awaitable: `co_await sem.acquire(n)` gives a semaphore_permit for n permits, or
    /// throws acquire_error if the semaphore is (or gets) closed.
    class acquire_awaiter : public rill::detail::acquire_op {
    public:
        using acquire_op::acquire_op;
        semaphore_permit await_resume() {
            finish();
            return semaphore_permit(sem_, n_);
        }
    };

    /// Waits for `n` permits (FIFO). Throws std::invalid_argument above max_permits.
    /// Cancel safety: safe (see the header comment).
    [[nodiscard]] acquire_awaiter acquire(std::size_t n = 1) {
        check(n);
        return acquire_awaiter(sem_, n);
    }
    /// Takes `n` permits if they are free now and nobody is queued.
    std::expected<semaphore_permit, try_acquire_error> try_acquire(std::size_t n = 1) {
        check(n);
        switch (sem_.try_acquire(n)) {
            case rill::detail::acquire_status::acquired: return semaphore_permit(&sem_, n);
            case rill::detail::acquire_status::closed: return std::unexpected(try_acquire_error::closed);
            case rill::detail::acquire_status::no_permits: break;
        }
        return std::unexpected(try_acquire_error::no_permits);
    }
    /// Adds permits (they go to waiters first). Throws std::overflow_error beyond max_permits.
    void add_permits(std::size_t n) { sem_.add_permits(n); }
    /// Removes up to `n` of the available permits for good; returns how many.
    std::size_t forget_permits(std::size_t n) noexcept { return sem_.forget_permits(n); }
    /// Permits free right now.
    std::size_t available_permits() const noexcept { return sem_.available(); }
    /// Wakes every waiter with acquire_error; later acquires fail. Permits held stay valid.
    void close() noexcept { sem_.close(); }
    bool is_closed() const noexcept { return sem_.is_closed(); }

    /// Awaitable of acquire_owned().
    class owned_acquire_awaiter {
    public:
        using one_shot_tag = void;  // never awaited by reference in a combinator (detail/branch.hpp)
        owned_acquire_awaiter(std::shared_ptr<semaphore> s, std::size_t n) noexcept
            : keep_(std::move(s)), op_(keep_->queue(), n) {}
        owned_acquire_awaiter(owned_acquire_awaiter&& o) noexcept : keep_(o.keep_), op_(std::move(o.op_)) {}
        bool await_ready() noexcept { return op_.await_ready(); }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) {
            return op_.await_suspend(h);
        }
        owned_semaphore_permit await_resume() {
            std::size_t n = op_.finish_and_count();
            return owned_semaphore_permit(keep_, n);
        }

    private:
        struct op : rill::detail::acquire_op {
            using acquire_op::acquire_op;
            std::size_t finish_and_count() {
                finish();
                return n_;
            }
        };
        std::shared_ptr<semaphore> keep_;  // declared first: outlives op_
        op op_;
    };

    /// Internal: the queue behind this semaphore.
    rill::detail::batch_semaphore& queue() noexcept { return sem_; }
    /// Internal: throws std::invalid_argument above max_permits.
    static void check(std::size_t n) {
        if (n > max_permits) throw std::invalid_argument("semaphore: more than max_permits permits requested");
    }

private:
    rill::detail::batch_semaphore sem_;
};

/// Waits for `n` permits of a shared semaphore; the permit keeps it alive and may move
/// into another task. Throws std::invalid_argument for a null pointer or n > max_permits.
/// Cancel safety: as semaphore::acquire.
[[nodiscard]] inline semaphore::owned_acquire_awaiter acquire_owned(std::shared_ptr<semaphore> s, std::size_t n = 1) {
    if (!s) throw std::invalid_argument("acquire_owned: null semaphore");
    semaphore::check(n);
    return semaphore::owned_acquire_awaiter(std::move(s), n);
}

/// try_acquire for a shared semaphore.
inline std::expected<owned_semaphore_permit, try_acquire_error> try_acquire_owned(std::shared_ptr<semaphore> s,
                                                                                  std::size_t n = 1) {
    if (!s) throw std::invalid_argument("try_acquire_owned: null semaphore");
    semaphore::check(n);
    switch (s->queue().try_acquire(n)) {
        case rill::detail::acquire_status::acquired: return owned_semaphore_permit(std::move(s), n);
        case rill::detail::acquire_status::closed: return std::unexpected(try_acquire_error::closed);
        case rill::detail::acquire_status::no_permits: break;
    }
    return std::unexpected(try_acquire_error::no_permits);
}

inline void semaphore_permit::merge(semaphore_permit&& other) {
    if (other.sem_ == nullptr) return;
    if (sem_ == nullptr) {
        *this = std::move(other);
        return;
    }
    if (other.sem_ != sem_) throw std::invalid_argument("semaphore_permit::merge: permits of another semaphore");
    n_ += std::exchange(other.n_, 0);
    other.sem_ = nullptr;
}

inline void owned_semaphore_permit::reset() noexcept {
    if (sem_) {
        sem_->queue().release(std::exchange(n_, 0));
        sem_.reset();
    }
}

inline void owned_semaphore_permit::merge(owned_semaphore_permit&& other) {
    if (!other.sem_) return;
    if (!sem_) {
        *this = std::move(other);
        return;
    }
    if (other.sem_ != sem_) throw std::invalid_argument("owned_semaphore_permit::merge: permits of another semaphore");
    n_ += std::exchange(other.n_, 0);
    other.sem_.reset();
}

}  // namespace rill::sync
