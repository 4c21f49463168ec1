// Storage for the outcome of a coroutine: nothing yet, a value, or an exception.
//
// `result<T>` works for T = void, references and move-only types. The value is
// taken out exactly once (`take()`), which rethrows a stored exception.
#pragma once

#include <exception>
#include <memory>
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

    /// Moves the outcome out: returns the value or rethrows the exception.
    T take() {
        if (state_.index() == 2) std::rethrow_exception(std::get<2>(state_));
        if constexpr (std::is_void_v<T>) {
            return;
        } else if constexpr (std::is_reference_v<T>) {
            return *std::get<1>(state_);
        } else {
            return std::move(std::get<1>(state_));
        }
    }

    void reset() noexcept { state_.template emplace<0>(); }

private:
    std::variant<std::monostate, value_type, std::exception_ptr> state_;
};

}  // namespace rill::detail
