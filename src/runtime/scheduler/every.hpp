// rill::detail::every: "every n-th tick" without a division on the hot path.
#pragma once

#include <cstdint>

namespace rill::detail {

/// Counts ticks down from `n`; fire() is true on every n-th call (the first time on the
/// n-th). The schedulers call it once per task run: a countdown instead of
/// `tick % n == 0`, whose 32-bit division cost more than the rest of the worker loop.
class every {
public:
    explicit every(std::uint32_t n) noexcept : n_(n), left_(n) {}
    bool fire() noexcept {
        if (--left_ != 0) return false;
        left_ = n_;
        return true;
    }

private:
    std::uint32_t n_;
    std::uint32_t left_;
};

}  // namespace rill::detail
