// rill::test::mock_task: polls one awaitable by hand, outside any runtime.
//
//     rill::test::mock_task t(rx.recv());
//     EXPECT_TRUE(t.poll().is_pending());
//     EXPECT_EQ(t.waker_count(), 1u);     // the channel holds our waker
//     tx.try_send(5);
//     EXPECT_TRUE(t.is_woken());
//     EXPECT_EQ(*t.poll(), 5);
//
// Like tokio-test's task::spawn: the awaitable runs inline in poll() on the calling
// thread until it completes or suspends. is_woken() says whether a waker it registered
// was woken since the last poll; waker_count() how many wakers of it are still held
// (registrations in primitives and clones of user wakers). A poll while not woken
// reports pending without resuming (rill resumes a suspension point only when its
// waker fired). Destroying the mock destroys the awaitable (cancellation).
#pragma once

#include <coroutine>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/detail/awaitable_traits.hpp"
#include "rill/detail/cells.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::test {

/// The outcome of one mock_task::poll().
template <class T>
class poll_result {
public:
    static poll_result pending() { return poll_result(); }
    template <class... A>
    static poll_result ready(A&&... a) {
        poll_result r;
        r.value_.emplace(std::forward<A>(a)...);
        return r;
    }
    bool is_ready() const noexcept { return value_.has_value(); }
    bool is_pending() const noexcept { return !value_.has_value(); }
    T& operator*() { return ensure(); }
    T* operator->() { return &ensure(); }
    T& value() { return ensure(); }

private:
    T& ensure() {
        if (!value_) throw std::logic_error("poll_result: pending has no value");
        return *value_;
    }
    std::optional<T> value_;
};

template <>
class poll_result<void> {
public:
    static poll_result pending() { return poll_result(false); }
    static poll_result ready() { return poll_result(true); }
    bool is_ready() const noexcept { return ready_; }
    bool is_pending() const noexcept { return !ready_; }

private:
    explicit poll_result(bool r) : ready_(r) {}
    bool ready_;
};

namespace detail {

/// Wraps any awaitable in a task so the mock can own it.
template <class R, class A>
task<R> wrap_awaitable(A a) {
    co_return co_await std::move(a);
}

template <class R>
struct mock_cell final : rill::detail::header {
    std::coroutine_handle<rill::detail::task_promise<R>> root_;

    explicit mock_cell(task<R>&& t)
        : header(rill::detail::intern_site(nullptr, &vtable, std::source_location::current()),
                 rill::detail::state::ref_one),
          root_(t.release()) {
        root_.promise().node_ = &main_;
        main_.resume_ = root_;
        main_.woken_.store(true, std::memory_order_relaxed);
    }
    static bool poll(rill::detail::header*) { return false; }
    static void cancel(rill::detail::header*) {}
    static std::exception_ptr drop_output(rill::detail::header*) { return {}; }
    static void dealloc(rill::detail::header* h) { delete static_cast<mock_cell*>(h); }
    static void* output(rill::detail::header* h) { return &static_cast<mock_cell*>(h)->root_.promise().result_; }
    static constexpr rill::detail::task_vtable vtable{&poll, &cancel, &drop_output, &dealloc, &output, nullptr};
};

}  // namespace detail

template <class R>
class mock_task {
public:
    /// Takes a task<R> (or any awaitable through make_mock).
    explicit mock_task(task<R> t) : cell_(new detail::mock_cell<R>(std::move(t))) {}
    mock_task(const mock_task&) = delete;
    mock_task& operator=(const mock_task&) = delete;
    ~mock_task() {
        if (cell_->root_) std::exchange(cell_->root_, {}).destroy();  // cancels the awaitable
        rill::detail::ref_dec(cell_);
    }

    /// Resumes the awaitable inline if it is new or was woken; reports ready or pending.
    /// Rethrows the exception the awaitable ended with.
    poll_result<R> poll() {
        if (!cell_->root_) throw std::logic_error("mock_task: polled after completion");
        polled_ = true;
        rill::detail::run_woken(cell_);
        if (!cell_->root_.done()) return poll_result<R>::pending();
        auto root = std::exchange(cell_->root_, {});
        struct destroy_guard {
            std::coroutine_handle<rill::detail::task_promise<R>> h;
            ~destroy_guard() { h.destroy(); }
        } guard{root};
        if constexpr (std::is_void_v<R>) {
            root.promise().result_.take();
            return poll_result<R>::ready();
        } else {
            return poll_result<R>::ready(root.promise().result_.take());
        }
    }
    /// True when a waker of this task fired since the last poll (false before the first
    /// poll: nothing has registered a waker yet, as in tokio-test).
    bool is_woken() const noexcept {
        if (!polled_) return false;
        return cell_->main_.woken_.load(std::memory_order_acquire) ||
               (cell_->aux() != nullptr && cell_->aux()->inbox_.load(std::memory_order_acquire) != nullptr);
    }
    /// How many wakers of this task are held elsewhere.
    std::size_t waker_count() const noexcept {
        return static_cast<std::size_t>(cell_->state_.load(std::memory_order_acquire) >> rill::detail::state::ref_shift) - 1;
    }
    /// True once poll() returned ready.
    bool is_complete() const noexcept { return !cell_->root_; }

private:
    detail::mock_cell<R>* cell_;
    bool polled_ = false;
};

template <class R>
mock_task(task<R>) -> mock_task<R>;

/// Makes a mock_task for any awaitable (a task, a join handle, a channel receive...).
template <class A>
auto make_mock(A&& a) {
    using R = rill::detail::await_result_t<A>;
    return mock_task<R>(detail::wrap_awaitable<R, std::remove_cvref_t<A>>(std::forward<A>(a)));
}

}  // namespace rill::test
