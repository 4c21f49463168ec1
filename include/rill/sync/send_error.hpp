// rill::sync::send_error<T>: a send that found its channel closed, with the value handed
// back. One type for mpsc, broadcast and watch (each namespace names it send_error too).
#pragma once

#include <utility>

namespace rill::sync {

/// A send on a closed channel (or one with no receiver left): the value, handed back.
template <class T>
struct send_error {
    T value;
    T into_inner() && { return std::move(value); }
};
template <>
struct send_error<void> {};

}  // namespace rill::sync
