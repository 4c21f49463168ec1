// Sync-primitive benchmarks of shared/anchors/README.md §1 (locks part).
//
// mutex_contention: 100 tasks, each n/100 times locks one rill::sync::mutex over a u64,
// increments it and unlocks (the Tokio program: tokio::sync::Mutex behind an Arc); a
// count-down latch tells the benchmark task when all are done; the final value is checked.
#include "common.hpp"

#include "rill/sync/mutex.hpp"

namespace rill_bench {
namespace {

struct contention_state {
    rill::sync::mutex<std::uint64_t> m{0};
    latch done;
    explicit contention_state(std::size_t tasks) noexcept : done(tasks) {}
};

rill::task<> contention_task(arc<contention_state> s, std::size_t per) {
    for (std::size_t i = 0; i < per; ++i) {
        auto g = co_await s->m.lock();
        *g += 1;
    }
    s->done.count_down();
}

rill::task<outcome> mutex_contention(std::size_t n) {
    constexpr std::size_t tasks = 100;
    const std::size_t per = std::max<std::size_t>(n / tasks, 1);
    arc<contention_state> s = arc<contention_state>::make(tasks);
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < tasks; ++i) rill::spawn(contention_task(s, per)).detach();
    co_await s->done.wait();
    outcome out = outcome_since(per * tasks, start);
    auto g = co_await s->m.lock();
    if (*g != per * tasks) fail("mutex_contention: wrong final count");
    co_return out;
}

}  // namespace

RILL_BENCH(mutex_contention, 1'000'000);

}  // namespace rill_bench
