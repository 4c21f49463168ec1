// The random start rotation of rill::future::select.
#include <chrono>
#include <cstdint>

#include "rill/future/select.hpp"

namespace rill::future::detail {

namespace {
// xorshift64*, one per thread, seeded from the clock and the thread's stack address.
std::uint64_t& rng_state() noexcept {
    thread_local std::uint64_t s = 0;
    return s;
}
}  // namespace

unsigned select_start(unsigned n) noexcept {
    if (n <= 1) return 0;
    std::uint64_t& x = rng_state();
    if (x == 0) {
        std::uint64_t local = 0;
        x = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            reinterpret_cast<std::uintptr_t>(&local) ^ 0x9E3779B97F4A7C15ull;
        if (x == 0) x = 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return static_cast<unsigned>(((x * 0x2545F4914F6CDD1Dull) >> 32) % n);
}

}  // namespace rill::future::detail
