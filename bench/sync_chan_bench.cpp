// Channel benchmarks of shared/anchors/README.md §1: ping_pong, mpsc_throughput,
// mpsc_unbounded. Same task structure as the Tokio program (runtime/rust/src/main.rs):
// the benchmark task spawns the peers, the clock covers the exchanges, and the result is
// checked (final value; count and sum).
#include <rill/sync/mpsc.hpp>

#include "common.hpp"

namespace rill_bench {
namespace {

namespace mpsc = rill::sync::mpsc;

rill::task<> ponger(mpsc::receiver<std::uint64_t> rx, mpsc::sender<std::uint64_t> tx) {
    while (std::optional<std::uint64_t> v = co_await rx.recv()) {
        if (!co_await tx.send(*v + 1)) break;
    }
}

rill::task<std::uint64_t> pinger(mpsc::sender<std::uint64_t> tx, mpsc::receiver<std::uint64_t> rx, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!co_await tx.send(v)) fail("ping_pong: ping send failed");
        std::optional<std::uint64_t> r = co_await rx.recv();
        if (!r) fail("ping_pong: pong channel closed");
        v = *r;
    }
    co_return v;
}

rill::task<outcome> ping_pong(std::size_t n) {
    auto [ping_tx, ping_rx] = mpsc::channel<std::uint64_t>(1);
    auto [pong_tx, pong_rx] = mpsc::channel<std::uint64_t>(1);
    auto pong = rill::spawn(ponger(std::move(ping_rx), std::move(pong_tx)));
    const auto start = clock_type::now();
    auto ping = rill::spawn(pinger(std::move(ping_tx), std::move(pong_rx), n));
    const std::uint64_t v = co_await ping;
    outcome out = outcome_since(n, start);
    if (v != n) fail("ping_pong: final value " + std::to_string(v) + " != " + std::to_string(n));
    co_await pong;
    co_return out;
}

constexpr std::size_t producers = 4;

rill::task<> bounded_producer(mpsc::sender<std::uint64_t> tx, std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        if (!co_await tx.send(i)) fail("mpsc_throughput: send failed");
    }
}

rill::task<> unbounded_producer(mpsc::unbounded_sender<std::uint64_t> tx, std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        if (!tx.send(i)) fail("mpsc_unbounded: send failed");
    }
    co_return;
}

template <class Rx>
rill::task<std::pair<std::uint64_t, std::uint64_t>> drain(Rx& rx) {
    std::uint64_t count = 0, sum = 0;
    while (std::optional<std::uint64_t> v = co_await rx.recv()) {
        ++count;
        sum += *v;
    }
    co_return std::pair{count, sum};
}

void check(const char* name, std::uint64_t count, std::uint64_t sum, std::uint64_t per) {
    if (count != per * producers) fail(std::string(name) + ": wrong count");
    if (sum != producers * (per * (per == 0 ? 0 : per - 1) / 2)) fail(std::string(name) + ": wrong sum");
}

rill::task<outcome> mpsc_throughput(std::size_t n) {
    const std::uint64_t per = n / producers;
    const auto start = clock_type::now();
    auto [tx, rx] = mpsc::channel<std::uint64_t>(1024);
    for (std::size_t p = 0; p < producers; ++p) rill::spawn(bounded_producer(tx, per)).detach();
    { auto gone = std::move(tx); }
    std::pair<std::uint64_t, std::uint64_t> r = co_await drain(rx);
    outcome out = outcome_since(per * producers, start);
    check("mpsc_throughput", r.first, r.second, per);
    co_return out;
}

rill::task<outcome> mpsc_unbounded(std::size_t n) {
    const std::uint64_t per = n / producers;
    const auto start = clock_type::now();
    auto [tx, rx] = mpsc::unbounded_channel<std::uint64_t>();
    for (std::size_t p = 0; p < producers; ++p) rill::spawn(unbounded_producer(tx, per)).detach();
    { auto gone = std::move(tx); }
    std::pair<std::uint64_t, std::uint64_t> r = co_await drain(rx);
    outcome out = outcome_since(per * producers, start);
    check("mpsc_unbounded", r.first, r.second, per);
    co_return out;
}

}  // namespace

RILL_BENCH(ping_pong, 1'000'000);
RILL_BENCH(mpsc_throughput, 1'000'000);
RILL_BENCH(mpsc_unbounded, 1'000'000);

}  // namespace rill_bench
