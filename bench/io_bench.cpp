// rill::io benchmarks. No Tokio anchor exists for these (compare runs them for rill
// only); duplex_echo is the in-memory shape of tcp_echo (anchors/README.md): it measures
// the stream layer (awaiters, wakes, read_exact/write_all) without the kernel.
#include "common.hpp"

#include <array>
#include <vector>

namespace rill_bench {

namespace {

rill::task<void> duplex_echo_server(rill::io::duplex_stream s) {
    std::array<std::byte, 64> buf{};
    for (;;) {
        const std::size_t n = co_await s.read(buf);
        if (n == 0) co_return;
        co_await rill::io::write_all(s, std::span<const std::byte>(buf.data(), n));
    }
}

rill::task<void> duplex_echo_client(rill::io::duplex_stream s, std::size_t rounds) {
    std::array<std::byte, 64> out{};
    std::array<std::byte, 64> in{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(i);
    for (std::size_t r = 0; r < rounds; ++r) {
        co_await rill::io::write_all(s, out);
        co_await rill::io::read_exact(s, in);
        if (in != out) throw std::runtime_error("duplex_echo: corrupt echo");
    }
    co_await s.shutdown();
}

}  // namespace

/// 100 duplex pairs (64 KiB buffers); per pair N/100 round trips of 64 bytes.
rill::task<outcome> duplex_echo(std::size_t n) {
    constexpr std::size_t conns = 100;
    const std::size_t per = std::max<std::size_t>(n / conns, 1);
    const auto start = clock_type::now();
    std::vector<rill::join_handle<void>> hs;
    hs.reserve(2 * conns);
    for (std::size_t c = 0; c < conns; ++c) {
        auto [a, b] = rill::io::duplex(64 * 1024);
        hs.push_back(rill::spawn(duplex_echo_server(std::move(b))));
        hs.push_back(rill::spawn(duplex_echo_client(std::move(a), per)));
    }
    for (auto& h : hs) co_await h;
    co_return outcome_since(per * conns, start);
}

RILL_BENCH(duplex_echo, 1'000'000);

}  // namespace rill_bench
