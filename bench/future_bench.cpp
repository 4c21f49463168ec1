// The composition benchmarks of shared/anchors/README.md §1: join_all_100k,
// futures_unordered_100k, stream_pipeline (the Tokio program uses futures 0.3's
// join_all, FuturesUnordered and stream combinators; shared/anchors/runtime/rust).
// select_loop: select over an mpsc receive and a long-lived sleep.
#include <ranges>
#include <vector>

#include "common.hpp"

namespace rill_bench {
namespace {

constexpr std::size_t round_size = 100'000;

// join_all_100k: rounds of 100,000 ready futures (`async move { i }`), awaited with
// join_all (results in input order), summed and checked. Creation is timed.
rill::task<std::uint64_t> ready_value(std::uint64_t i) { co_return i; }

rill::task<outcome> join_all_100k(std::size_t n) {
    const std::size_t rounds = std::max<std::size_t>(n / round_size, 1);
    const std::size_t per = std::min(n, round_size);
    const auto start = clock_type::now();
    std::uint64_t total = 0;
    for (std::size_t r = 0; r < rounds; ++r) {
        std::vector<rill::task<std::uint64_t>> futs;
        futs.reserve(per);
        for (std::uint64_t i = 0; i < per; ++i) futs.push_back(ready_value(i));
        std::vector<std::uint64_t> results = co_await rill::future::join_all(std::move(futs));
        if (results.size() != per) fail("join_all_100k: wrong count");
        for (std::uint64_t v : results) total += v;
    }
    outcome out = outcome_since(rounds * per, start);
    const std::uint64_t p = per;
    if (total != rounds * (p * (p - 1) / 2)) fail("join_all_100k: wrong sum");
    co_return out;
}

// futures_unordered_100k: rounds of 100,000 oneshot receivers in a futures_unordered,
// polled once (every receiver registered and pending), then a spawned task sends value
// i on sender i in a shuffled order while this task drains the set.
using u64_tx = rill::sync::oneshot::sender<std::uint64_t>;
using u64_rx = rill::sync::oneshot::receiver<std::uint64_t>;

rill::task<std::uint64_t> receive(u64_rx rx) { co_return co_await std::move(rx); }

rill::task<> send_all(rill::sync::oneshot::receiver<int> go, std::vector<u64_tx> senders,
                      const std::vector<std::size_t>* order) {
    (void)co_await std::move(go);
    for (std::size_t i : *order) (void)senders[i].send(i);
}

/// Ready at once: `select_biased(set.next(), ready_now{})` polls the set exactly once.
struct ready_now {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};

rill::task<outcome> futures_unordered_100k(std::size_t n) {
    const std::size_t rounds = std::max<std::size_t>(n / round_size, 1);
    const std::size_t per = std::min(n, round_size);
    std::vector<std::size_t> order(per);
    for (std::size_t i = 0; i < per; ++i) order[i] = i;
    xorshift rng;
    for (std::size_t i = per - 1; i >= 1; --i) std::swap(order[i], order[rng.next() % (i + 1)]);
    const auto start = clock_type::now();
    for (std::size_t r = 0; r < rounds; ++r) {
        std::vector<u64_tx> senders;
        senders.reserve(per);
        rill::future::futures_unordered<std::uint64_t> set;
        for (std::size_t i = 0; i < per; ++i) {
            auto [tx, rx] = rill::sync::oneshot::channel<std::uint64_t>();
            senders.push_back(std::move(tx));
            set.push(receive(std::move(rx)));
        }
        auto first = co_await rill::future::select_biased(set.next(), ready_now{});
        if (first.index() != 1) fail("futures_unordered_100k: a member was ready before any send");
        auto [go_tx, go_rx] = rill::sync::oneshot::channel<int>();
        auto sender = rill::spawn(send_all(std::move(go_rx), std::move(senders), &order));
        (void)go_tx.send(1);
        std::size_t count = 0;
        std::uint64_t sum = 0;
        for (;;) {
            std::optional<std::uint64_t> v = co_await set.next();
            if (!v) break;
            ++count;
            sum += *v;
        }
        co_await sender;
        const std::uint64_t p = per;
        if (count != per || sum != p * (p - 1) / 2) fail("futures_unordered_100k: wrong count or sum");
    }
    co_return outcome_since(rounds * per, start);
}

// stream_pipeline: iter(0, 1, 2, ...) -> map(x * 3, the value read through a volatile so
// the optimiser cannot fold it) -> filter(even) -> take(n) -> fold(0, +); about 2n items
// enter, n come out; the sum is 3n(n-1). No await in the pipeline suspends.
struct times_three {
    std::uint64_t operator()(std::uint64_t x) const noexcept {
        volatile std::uint64_t v = x;
        return v * 3;
    }
};
struct is_even {
    bool operator()(std::uint64_t x) const noexcept { return x % 2 == 0; }
};
struct add {
    std::uint64_t operator()(std::uint64_t a, std::uint64_t b) const noexcept { return a + b; }
};

rill::task<outcome> stream_pipeline(std::size_t n) {
    namespace st = rill::stream;
    const auto start = clock_type::now();
    std::uint64_t sum = co_await (st::iter(std::views::iota(std::uint64_t{0})) | st::map(times_three{}) |
                                  st::filter(is_even{}) | st::take(n) | st::fold(std::uint64_t{0}, add{}));
    outcome out = outcome_since(n, start);
    const std::uint64_t m = n;
    if (sum != 3 * m * (m == 0 ? 0 : m - 1)) fail("stream_pipeline: wrong sum");
    co_return out;
}

// select_loop: one sleep(1 hour) created before the loop and passed by reference (the
// pinned `&mut sleep` arm of Tokio's select!, never restarted); a producer task sends
// 0..n-1 into a bounded mpsc channel of capacity 1024; n iterations of an unbiased
// select (random start per call) between recv() and the sleep. The sleep must never win;
// the sum is checked.
rill::task<> select_producer(rill::sync::mpsc::sender<std::uint64_t> tx, std::size_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto sent = co_await tx.send(i);
        if (!sent) fail("select_loop: the receiver went away");
    }
}

rill::task<outcome> select_loop(std::size_t n) {
    auto [tx, rx] = rill::sync::mpsc::channel<std::uint64_t>(1024);
    rill::time::timer never = rill::time::sleep(std::chrono::hours(1));
    const auto start = clock_type::now();
    rill::spawn(select_producer(std::move(tx), n)).detach();
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        auto r = co_await rill::future::select(rx.recv(), never);
        if (r.index() != 0) fail("select_loop: the 1 hour sleep won");
        std::optional<std::uint64_t> v = std::move(r).get<0>();
        if (!v) fail("select_loop: the channel closed early");
        sum += *v;
    }
    outcome out = outcome_since(n, start);
    const std::uint64_t m = n;
    if (sum != m * (m - 1) / 2) fail("select_loop: wrong sum");
    co_return out;
}

}  // namespace

RILL_BENCH(join_all_100k, 1'000'000);
RILL_BENCH(futures_unordered_100k, 1'000'000);
RILL_BENCH(stream_pipeline, 10'000'000);
RILL_BENCH(select_loop, 1'000'000);

}  // namespace rill_bench
