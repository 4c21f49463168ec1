// Storage for the outcome of a coroutine: nothing yet, a value, or an exception.
//
// `result<T>` works for T = void, references and move-only types. The value is
// taken out exactly once (`take()`), which rethrows a stored exception.
#pragma once

#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace rill::detail {

struct void_value {};

template <class T>
struct stored {
    using type = T;
};
template <class T>
struct stored<T&> {
    using type = T*;
};
template <>
struct stored<void> {
    using type = void_value;
};

template <class T>
class result {
public:
    using value_type = typename stored<T>::type;

    template <class U>
    void set_value(U&& v) {
        if constexpr (std::is_reference_v<T>) {
            state_.template emplace<1>(std::addressof(v));
        } else {
            state_.template emplace<1>(std::forward<U>(v));
        }
    }
    void set_void() { state_.template emplace<1>(); }
    void set_exception(std::exception_ptr e) noexcept { state_.template emplace<2>(std::move(e)); }

    bool has_value() const noexcept { return state_.index() == 1; }
    bool has_exception() const noexcept { return state_.index() == 2; }
    bool empty() const noexcept { return state_.index() == 0; }
    const std::exception_ptr& exception() const noexcept { return std::get<2>(state_); }

    /// Moves the outcome out: returns the value or rethrows the exception. The result is
    /// empty afterwards; taking an empty result throws std::logic_error (a task awaited
    /// again after it completed), never hands out a moved-from value.
    T take() {
        if (state_.index() != 1) [[unlikely]] {
            if (state_.index() == 0) throw_taken();
            std::exception_ptr e = std::move(std::get<2>(state_));
            state_.template emplace<0>();
            std::rethrow_exception(std::move(e));
        }
        if constexpr (std::is_void_v<T>) {
            state_.template emplace<0>();
        } else if constexpr (std::is_reference_v<T>) {
            T r = *std::get<1>(state_);
            state_.template emplace<0>();
            return static_cast<T>(r);
        } else {
            T v = std::move(std::get<1>(state_));
            state_.template emplace<0>();
            return v;
        }
    }

    void reset() noexcept { state_.template emplace<0>(); }

private:
    [[noreturn]] static void throw_taken() {
        throw std::logic_error("rill: the result was already taken (a task awaited again after it completed)");
    }

    std::variant<std::monostate, value_type, std::exception_ptr> state_;
};

}  // namespace rill::detail
