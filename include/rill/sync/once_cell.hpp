// rill::sync::once_cell<T>: a value set once, asynchronously (Tokio's OnceCell).
//
//     rill::sync::once_cell<config> cfg;
//     const config& c = co_await cfg.get_or_init(load_config);   // load_config() -> task<config>
//
// get_or_init(f) returns the value, running `f()` (a function returning an awaitable of
// T, typically a rill::task<T>) if the cell is empty. Only one initialiser runs at a
// time: the others wait (FIFO) and get the value it produced. If the initialiser throws,
// the exception goes to its caller and the next waiter runs its own f; if the coroutine
// running it is destroyed (cancelled), the next waiter takes over the same way.
// get_or_try_init(f) is the same for an f returning an awaitable of std::expected<T, E>:
// an error is returned to that caller (std::unexpected) and the next waiter tries.
// get() gives the value or nullptr; set(v) stores it unless the cell is set or being
// initialised (the value comes back in the error); initialized() says whether it is set.
// Built on the batch semaphore: the
// initialiser holds its one permit, and setting the value closes it, which releases
// every waiter at once.
//
// Cancel safety: get_or_init and get_or_try_init are cancel-safe: a waiter destroyed
// while queued leaves the queue; an initialiser destroyed while running lets the next
// waiter initialise; nothing is stored unless f completed.
// Resumes on: the waiting task's worker.
// Thread safety: all members may be called from any thread; the value, once set, is
// shared by every caller (synchronise its mutation yourself).
#pragma once

#include <atomic>
#include <expected>
#include <optional>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/batch_semaphore.hpp"
#include "rill/task.hpp"

namespace rill::sync {

/// Why set() failed; the value is handed back.
enum class set_error_kind { already_initialized, initializing };

template <class T>
struct set_error {
    set_error_kind kind;
    T value;
};

template <class T>
class once_cell {
public:
    once_cell() noexcept = default;
    /// A cell that is already set.
    explicit once_cell(T value) : value_(std::move(value)), set_(true) { sem_.close(); }
    once_cell(const once_cell&) = delete;
    once_cell& operator=(const once_cell&) = delete;

    bool initialized() const noexcept { return set_.load(std::memory_order_acquire); }
    /// The value, or nullptr when not set yet.
    T* get() noexcept { return initialized() ? &*value_ : nullptr; }
    const T* get() const noexcept { return initialized() ? &*value_ : nullptr; }

    /// Stores `v` if the cell is empty and nobody is initialising it.
    std::expected<void, set_error<T>> set(T v) {
        switch (sem_.try_acquire(1)) {
            case rill::detail::acquire_status::closed:
                return std::unexpected(set_error<T>{set_error_kind::already_initialized, std::move(v)});
            case rill::detail::acquire_status::no_permits:
                return std::unexpected(set_error<T>{set_error_kind::initializing, std::move(v)});
            case rill::detail::acquire_status::acquired: break;
        }
        publish(std::move(v));
        return {};
    }

    /// The value, initialising it with `co_await f()` if empty. See the header comment.
    template <class F>
    task<T&> get_or_init(F f) {
        if (initialized()) co_return *value_;
        if (!co_await slot()) co_return *value_;  // closed: somebody else set it
        permit_guard permit{&sem_};
        if (initialized()) co_return *value_;
        T v = co_await f();
        permit.sem = nullptr;  // setting closes the semaphore: the permit is not given back
        publish(std::move(v));
        co_return *value_;
    }

    /// As get_or_init, for an f whose awaitable gives std::expected<T, E>: an error is
    /// returned (and the next waiter tries). The pointer of a success is never null.
    template <class F>
    auto get_or_try_init(F f) -> task<std::expected<T*, typename rill::detail::await_result_t<decltype(f())>::error_type>> {
        if (initialized()) co_return &*value_;
        if (!co_await slot()) co_return &*value_;
        permit_guard permit{&sem_};
        if (initialized()) co_return &*value_;
        auto r = co_await f();
        if (!r) co_return std::unexpected(std::move(r).error());
        permit.sem = nullptr;
        publish(std::move(*r));
        co_return &*value_;
    }

private:
    // Awaits the initialiser's permit: true when we hold it, false when the cell got set.
    struct slot_awaiter : rill::detail::acquire_op {
        using acquire_op::acquire_op;
        bool await_resume() { return finish_nothrow(); }
    };
    slot_awaiter slot() noexcept { return slot_awaiter(sem_, 1); }
    struct permit_guard {
        rill::detail::batch_semaphore* sem;
        ~permit_guard() {
            if (sem) sem->release(1);
        }
    };
    void publish(T v) {
        value_.emplace(std::move(v));
        set_.store(true, std::memory_order_release);
        sem_.close();  // wakes every waiter: they find the value
    }

    rill::detail::batch_semaphore sem_{1};
    std::optional<T> value_;
    std::atomic<bool> set_{false};
};

}  // namespace rill::sync
