// Chapter 8: the size of a future.
//
// A coroutine's locals that live across a co_await cannot stay on the stack: they
// are stored in the coroutine frame, one heap block per coroutine call (rill takes
// it from a recycling allocator, not malloc, in steady state; frames over 1 KiB
// bypass it and go to ::operator new). So a task holding a big buffer across an
// await is a big task, and spawning thousands of them costs that much memory each. The fix, as in Rust, is to box the buffer: keep it on the
// heap (a std::vector) so the frame only holds a pointer.
//
// C++ does not expose the frame size, but the compiler passes it to the promise's
// operator new. rill::task's promise allocates through rill's internal allocator, so
// this chapter uses sized_task: a minimal lazy task with the same shape as
// rill::task (initial suspend, symmetric transfer to the awaiter, a result slot)
// whose operator new records the size it was asked for. The frame layout is chosen
// by the compiler from the coroutine body, so these sizes are what the same bodies
// cost as rill::task, to within the few bytes of promise state that differ.
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <new>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::future_size {

/// The size of the most recently allocated sized_task frame.
inline std::atomic<std::size_t> last_frame_size{0};

template <class T>
class [[nodiscard]] sized_task {
public:
    struct promise_type {
        std::coroutine_handle<> continuation{};
        std::optional<T> value{};
        std::exception_ptr error{};

        static void* operator new(std::size_t frame_size) {
            last_frame_size.store(frame_size, std::memory_order_relaxed);
            return ::operator new(frame_size);
        }
        static void operator delete(void* p, std::size_t frame_size) noexcept { ::operator delete(p, frame_size); }

        sized_task get_return_object() noexcept {
            return sized_task(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }  // lazy
        auto final_suspend() const noexcept {
            struct resume_awaiter {
                bool await_ready() const noexcept { return false; }
                std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                    std::coroutine_handle<> c = h.promise().continuation;
                    return c ? c : std::noop_coroutine();
                }
                void await_resume() const noexcept {}
            };
            return resume_awaiter{};
        }
        void return_value(T v) { value.emplace(std::move(v)); }
        void unhandled_exception() noexcept { error = std::current_exception(); }
    };

    sized_task(sized_task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    sized_task& operator=(sized_task&&) = delete;
    ~sized_task() {
        if (h_) h_.destroy();
    }

    // Awaitable from any coroutine, rill::task included: start the child and
    // transfer to it; its final_suspend transfers back to us.
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h_.promise().continuation = awaiting;
        return h_;
    }
    T await_resume() {
        if (h_.promise().error) std::rethrow_exception(h_.promise().error);
        return std::move(*h_.promise().value);
    }

private:
    explicit sized_task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    std::coroutine_handle<promise_type> h_;
};

// Small: nothing but its argument crosses a suspension point.
inline sized_task<int> add_one(int x) { co_return x + 1; }

// Large: the 1 KiB buffer is alive across the co_await, so it lives in the frame.
inline sized_task<int> checksum_inline() {
    std::array<unsigned char, 1024> buffer{};
    std::iota(buffer.begin(), buffer.end(), static_cast<unsigned char>(0));
    const int extra = co_await add_one(0);
    co_return std::accumulate(buffer.begin(), buffer.end(), 0) + extra;
}

// The same work with the buffer boxed: the frame holds only the vector's pointers.
inline sized_task<int> checksum_boxed() {
    std::vector<unsigned char> buffer(1024);
    std::iota(buffer.begin(), buffer.end(), static_cast<unsigned char>(0));
    const int extra = co_await add_one(0);
    co_return std::accumulate(buffer.begin(), buffer.end(), 0) + extra;
}

// Spawning adds the task's own bookkeeping to its frame (a 64-byte header). spawn(f(x))
// gets it as a second block, because f's frame exists before spawn sees it;
// spawn(rill::call(f, x)) calls f itself and puts header and frame in one block, as a
// Tokio task holds its future: the form to use for the many tasks that wait.
inline rill::task<int> add_later(int x) {
    co_await rill::yield_now();
    co_return x + 1;
}

inline rill::task<void> async_main() {
    // Calling a coroutine allocates its frame at once (and runs nothing: chapter 1),
    // so the size is known right after the call.
    sized_task<int> small = add_one(41);
    const std::size_t small_size = last_frame_size.load();
    sized_task<int> large = checksum_inline();
    const std::size_t large_size = last_frame_size.load();
    sized_task<int> boxed = checksum_boxed();
    const std::size_t boxed_size = last_frame_size.load();

    std::printf("small task frame: %zu bytes\n", small_size);
    std::printf("large task frame: %zu bytes\n", large_size);
    std::printf("boxed task frame: %zu bytes\n", boxed_size);
    std::printf("large >= 1024: %s\n", large_size >= 1024 ? "yes" : "no");
    std::printf("boxed < 1024: %s\n", boxed_size < 1024 ? "yes" : "no");

    // They are still ordinary awaitable tasks.
    const int a = co_await std::move(small);
    const int b = co_await std::move(large);
    const int c = co_await std::move(boxed);
    std::printf("results: %d %d %d\n", a, b, c);

    const int d = co_await rill::spawn(add_later(1));
    const int e = co_await rill::spawn(rill::call(add_later, 2));
    std::printf("spawn(add_later(1)) = %d, spawn(rill::call(add_later, 2)) = %d\n", d, e);
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::future_size
