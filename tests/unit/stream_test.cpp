// rill::stream: the generator, sources and combinators.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <expected>
#include <list>
#include <optional>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/rt.hpp"

using namespace std::chrono_literals;
namespace st = rill::stream;
namespace fut = rill::future;
using rill::time::instant;

namespace {

rill::builder paused() { return rill::builder::new_current_thread().enable_all().start_paused(true); }

long ms_since(instant start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(instant::now() - start).count();
}

template <class T>
rill::task<std::vector<T>> drain(st::stream<T> s) {
    std::vector<T> out;
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) break;
        out.push_back(std::move(*v));
    }
    co_return out;
}

template <class T>
std::vector<T> run_paused(st::stream<T> s) {
    auto rt = paused().build();
    return rt.block_on(drain<T>(std::move(s)));
}

// --- the generator ----------------------------------------------------------------------

st::stream<int> countdown(int n) {
    for (int i = n; i > 0; --i) {
        co_await rill::time::sleep(1s);
        co_yield i;
    }
}

TEST(stream_generator, yields_and_awaits_in_one_body) {
    auto rt = paused().build();
    auto r = rt.block_on([]() -> rill::task<std::pair<std::vector<int>, long>> {
        auto start = instant::now();
        auto v = co_await drain(countdown(3));
        co_return std::pair<std::vector<int>, long>(v, ms_since(start));
    }());
    EXPECT_EQ(r.first, (std::vector<int>{3, 2, 1}));
    EXPECT_EQ(r.second, 3000);
}

st::stream<std::string> lazy(int* ran) {
    ++*ran;
    co_yield std::string("a");
}

TEST(stream_generator, lazy_until_first_next) {
    int ran = 0;
    {
        auto s = lazy(&ran);
        EXPECT_EQ(ran, 0);
    }
    EXPECT_EQ(ran, 0);
    EXPECT_EQ(run_paused(lazy(&ran)), (std::vector<std::string>{"a"}));
    EXPECT_EQ(ran, 1);
}

st::stream<int> throws_after_two() {
    co_yield 1;
    co_yield 2;
    throw std::runtime_error("bad item");
}

rill::task<std::vector<int>> drain_catching(st::stream<int> s) {
    std::vector<int> out;
    try {
        for (;;) {
            std::optional<int> v = co_await s.next();
            if (!v) break;
            out.push_back(*v);
        }
    } catch (const std::runtime_error&) {
        out.push_back(-1);
    }
    std::optional<int> after = co_await s.next();  // ended
    out.push_back(after ? 99 : 0);
    co_return out;
}

TEST(stream_generator, exception_propagates_then_ends) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(drain_catching(throws_after_two())), (std::vector<int>{1, 2, -1, 0}));
}

st::stream<int> holding(rill_test::drop_counter c) {
    (void)c;
    co_yield 1;
    co_await rill::time::sleep(1h);
    co_yield 2;
}

TEST(stream_generator, destroying_mid_iteration_destroys_frame) {
    std::atomic<int> dropped{0};
    auto rt = paused().build();
    rt.block_on([](std::atomic<int>* d) -> rill::task<void> {
        auto s = holding(rill_test::drop_counter(d));
        EXPECT_EQ(*co_await s.next(), 1);
        auto r = co_await fut::select(s.next(), rill::time::sleep(10ms));  // s suspends in its sleep
        EXPECT_EQ(r.index(), 1u);
        EXPECT_EQ(d->load(), 0);
        s = st::stream<int>();  // destroy it while suspended in the sleep
        EXPECT_EQ(d->load(), 1);
    }(&dropped));
}

// next() abandoned by a select continues where it was: no item lost, not restarted.
st::stream<int> slow_numbers(int* resumed) {
    for (int i = 0; i < 3; ++i) {
        co_await rill::time::sleep(25ms);
        ++*resumed;
        co_yield i;
    }
}

rill::task<std::pair<std::vector<int>, long>> next_in_select_loop(int* resumed) {
    auto start = instant::now();
    auto s = slow_numbers(resumed);
    rill::time::interval fast(10ms);
    std::vector<int> out;
    for (;;) {
        auto r = co_await fut::select(s.next(), fast.tick());
        if (r.index() == 0) {
            if (!r.get<0>()) break;
            out.push_back(*r.get<0>());
        }
    }
    co_return std::pair<std::vector<int>, long>(out, ms_since(start));
}

// The awaiter of next() may not be passed to a combinator by reference: it is kept out of
// the branch that loses, with its relay attached to that branch's freed node (a compile
// error, detail/branch.hpp). A fresh next() per select is the form to use.
static_assert(rill::detail::one_shot_awaiter<decltype(std::declval<st::stream<int>&>().next())>);
static_assert(!rill::detail::branch_arg_ok<decltype(std::declval<st::stream<int>&>().next())&>);
static_assert(rill::detail::branch_arg_ok<decltype(std::declval<st::stream<int>&>().next())>);

st::stream<int> one_after(rill::time::duration d, int v) {
    co_await rill::time::sleep(d);
    co_yield v;
}

// A next() lost in a select; the item arrives while nobody awaits the stream (between two
// selects); the next select's fresh next() gets it.
rill::task<std::pair<int, long>> next_lost_then_item_between_selects() {
    auto start = instant::now();
    auto s = one_after(50ms, 7);
    auto r = co_await fut::select_biased(s.next(), rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    co_await rill::time::sleep(100ms);  // the body's sleep fires meanwhile (its wake is parked)
    auto r2 = co_await fut::select_biased(s.next(), rill::time::sleep(1s));
    EXPECT_EQ(r2.index(), 0u);
    int v = r2.index() == 0 && r2.get<0>() ? *r2.get<0>() : -1;
    std::optional<int> end = co_await s.next();
    EXPECT_FALSE(end.has_value());
    co_return std::pair<int, long>(v, ms_since(start));
}

TEST(stream_generator, next_lost_in_select_then_item_arrives_between_selects) {
    auto rt = paused().build();
    auto [v, ms] = rt.block_on(next_lost_then_item_between_selects());
    EXPECT_EQ(v, 7);
    EXPECT_EQ(ms, 110);  // the parked item is delivered by the second select at once
}

TEST(stream_generator, next_is_cancel_safe) {
    auto rt = paused().build();
    int resumed = 0;
    auto [out, ms] = rt.block_on(next_in_select_loop(&resumed));
    EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(resumed, 3);
    EXPECT_EQ(ms, 75);  // 3 x 25ms: the end follows the last item at once
}

// --- sources ----------------------------------------------------------------------------

TEST(stream_sources, iter_once_empty_repeat) {
    EXPECT_EQ(run_paused(st::iter(std::vector<int>{1, 2, 3, 4, 5})), (std::vector<int>{1, 2, 3, 4, 5}));
    std::list<std::string> l{"x", "y"};
    EXPECT_EQ(run_paused(st::iter(l)), (std::vector<std::string>{"x", "y"}));  // copied
    EXPECT_EQ(l.size(), 2u);
    EXPECT_EQ(run_paused(st::iter(std::views::iota(0, 4))), (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(run_paused(st::once(7)), (std::vector<int>{7}));
    EXPECT_TRUE(run_paused(st::empty<int>()).empty());
    EXPECT_EQ(run_paused(st::repeat(std::string("r")) | st::take(3)), (std::vector<std::string>{"r", "r", "r"}));
}

TEST(stream_sources, interval_stream_ticks_on_paused_clock) {
    auto rt = paused().build();
    auto r = rt.block_on([]() -> rill::task<std::vector<long>> {
        auto start = instant::now();
        auto s = st::interval_stream(100ms) | st::take(5);
        std::vector<long> at;
        for (;;) {
            std::optional<instant> t = co_await s.next();
            if (!t) break;
            at.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*t - start).count());
        }
        co_return at;
    }());
    EXPECT_EQ(r, (std::vector<long>{0, 100, 200, 300, 400}));
}

// A small receiver: recv() yields std::optional<T>, std::nullopt when closed.
struct test_receiver {
    std::deque<int> items;
    rill::task<std::optional<int>> recv() { return pop(this); }
    static rill::task<std::optional<int>> pop(test_receiver* self) {
        co_await rill::time::sleep(1ms);
        if (self->items.empty()) co_return std::nullopt;
        int v = self->items.front();
        self->items.pop_front();
        co_return v;
    }
};

// A oneshot-backed receiver: one value, then closed.
struct oneshot_receiver {
    rill::sync::oneshot::receiver<int> rx;
    bool done = false;
    rill::task<std::optional<int>> recv() { return pop(this); }
    static rill::task<std::optional<int>> pop(oneshot_receiver* self) {
        if (self->done) co_return std::nullopt;
        self->done = true;
        try {
            co_return co_await self->rx;
        } catch (const rill::sync::oneshot::recv_error&) {
            co_return std::nullopt;
        }
    }
};

TEST(stream_sources, from_recv) {
    EXPECT_EQ(run_paused(st::from_recv(test_receiver{{1, 2, 3}})), (std::vector<int>{1, 2, 3}));
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    EXPECT_TRUE(tx.send(9).has_value());
    EXPECT_EQ(run_paused(st::from_recv(oneshot_receiver{std::move(rx)})), (std::vector<int>{9}));
}

// --- adapters ---------------------------------------------------------------------------

TEST(stream_adapters, filter_map_take_collect) {
    auto rt = paused().build();
    auto v = rt.block_on(st::iter(std::views::iota(1, 100)) | st::filter([](int x) { return x % 2 == 0; }) |
                         st::map([](int x) { return x * x; }) | st::take(3) | st::collect<std::vector<int>>());
    EXPECT_EQ(v, (std::vector<int>{4, 16, 36}));
}

TEST(stream_adapters, each_adapter) {
    auto nums = [] { return st::iter(std::vector<int>{1, 2, 3, 4, 5, 1}); };
    EXPECT_EQ(run_paused(nums() | st::filter_map([](int x) -> std::optional<std::string> {
                             if (x % 2) return std::to_string(x);
                             return std::nullopt;
                         })),
              (std::vector<std::string>{"1", "3", "5", "1"}));
    EXPECT_EQ(run_paused(nums() | st::take_while([](int x) { return x < 4; })), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(run_paused(nums() | st::skip(4)), (std::vector<int>{5, 1}));
    EXPECT_EQ(run_paused(nums() | st::skip(10)), (std::vector<int>{}));
    EXPECT_EQ(run_paused(nums() | st::skip_while([](int x) { return x < 4; })), (std::vector<int>{4, 5, 1}));
    EXPECT_EQ(run_paused(nums() | st::take(0)), (std::vector<int>{}));
    EXPECT_EQ(run_paused(st::iter(std::vector<int>{1, 2}) | st::chain(st::iter(std::vector<int>{3}))),
              (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(run_paused(nums() | st::chunks(2)), (std::vector<std::vector<int>>{{1, 2}, {3, 4}, {5, 1}}));
    EXPECT_EQ(run_paused(st::iter(std::vector<int>{1, 2, 3}) | st::chunks(2)),
              (std::vector<std::vector<int>>{{1, 2}, {3}}));
    EXPECT_TRUE(run_paused(st::empty<int>() | st::chunks(3)).empty());
    EXPECT_THROW((void)st::chunks(0), std::invalid_argument);
}

rill::task<int> double_later(int x) {
    co_await rill::time::sleep(10ms);
    co_return 2 * x;
}

struct doubler {
    rill::task<int> operator()(int x) const { return double_later(x); }
};

rill::task<std::pair<std::vector<int>, long>> then_in_order() {
    auto start = instant::now();
    std::vector<int> in{1, 2, 3};  // (a braced list in a co_await's full-expression trips g++ 12)
    std::vector<int> v = co_await drain(st::iter(std::move(in)) | st::then(doubler{}));
    co_return std::pair<std::vector<int>, long>(v, ms_since(start));
}

TEST(stream_adapters, then_is_an_async_map_in_order) {
    auto rt = paused().build();
    auto r = rt.block_on(then_in_order());
    EXPECT_EQ(r.first, (std::vector<int>{2, 4, 6}));
    EXPECT_EQ(r.second, 30);  // one at a time
}

TEST(stream_adapters, take_stops_polling_input) {
    int resumed = 0;
    auto v = run_paused(slow_numbers(&resumed) | st::take(2));
    EXPECT_EQ(v, (std::vector<int>{0, 1}));
    EXPECT_EQ(resumed, 2);
}

// Callables are stored in the adapter's frame: a functor with state outlives the pipe
// expression that created it.
struct add_n {
    std::vector<int> n;  // heap state: use-after-free would show under ASan
    int operator()(int x) const { return x + n[0]; }
};

st::stream<int> build_pipeline() {
    return st::iter(std::vector<int>{1, 2}) | st::map(add_n{{10}});
}

TEST(stream_adapters, callables_live_in_the_frame) {
    EXPECT_EQ(run_paused(build_pipeline()), (std::vector<int>{11, 12}));
}

TEST(stream_adapters, errors_propagate_through_adapters) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(drain_catching(throws_after_two() | st::map([](int x) { return x * 10; }))),
              (std::vector<int>{10, 20, -1, 0}));
}

// --- consumers --------------------------------------------------------------------------

TEST(stream_consume, fold_collect_for_each) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(st::iter(std::views::iota(1, 11)) | st::fold(0, std::plus<>{})), 55);
    EXPECT_EQ(rt.block_on(st::iter(std::vector<int>{3, 1, 3}) | st::collect<std::set<int>>()),
              (std::set<int>{1, 3}));
    std::vector<int> seen;
    rt.block_on(st::iter(std::vector<int>{1, 2}) | st::for_each([&seen](int x) { seen.push_back(x); }));
    EXPECT_EQ(seen, (std::vector<int>{1, 2}));
    auto rec = [](std::vector<int>* out, int x) -> rill::task<void> {
        co_await rill::time::sleep(1ms);
        out->push_back(x);
    };
    rt.block_on(st::iter(std::vector<int>{3, 4}) | st::for_each([&seen, rec](int x) { return rec(&seen, x); }));
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(rt.block_on(st::empty<int>() | st::fold(5, std::plus<>{})), 5);
}

// --- concurrency ------------------------------------------------------------------------

st::stream<int> every(rill::time::duration d, int base, int n) {
    for (int i = 0; i < n; ++i) {
        co_await rill::time::sleep(d);
        co_yield base + i;
    }
}

TEST(stream_concurrent, merge_interleaves_by_time) {
    auto v = run_paused(every(10ms, 0, 3) | st::merge(every(15ms, 100, 2)));
    // t=10:0 15:100 20:1 30:2 30:101 (tie at 30 in either order)
    ASSERT_EQ(v.size(), 5u);
    EXPECT_EQ(v[0], 0);
    EXPECT_EQ(v[1], 100);
    EXPECT_EQ(v[2], 1);
    EXPECT_EQ(std::set<int>(v.begin() + 3, v.end()), (std::set<int>{2, 101}));
}

TEST(stream_concurrent, merge_with_empty) {
    EXPECT_EQ(run_paused(st::empty<int>() | st::merge(st::iter(std::vector<int>{1, 2}))), (std::vector<int>{1, 2}));
}

TEST(stream_concurrent, zip_pairs_and_stops_at_shorter) {
    auto rt = paused().build();
    auto r = rt.block_on([]() -> rill::task<std::pair<std::vector<std::pair<int, int>>, long>> {
        auto start = instant::now();
        auto v = co_await drain(every(10ms, 0, 3) | st::zip(every(20ms, 100, 5)));
        co_return std::pair<std::vector<std::pair<int, int>>, long>(v, ms_since(start));
    }());
    EXPECT_EQ(r.first, (std::vector<std::pair<int, int>>{{0, 100}, {1, 101}, {2, 102}}));
}

rill::task<int> track(int x, int* in_flight, int* max_in_flight, rill::time::duration d) {
    ++*in_flight;
    *max_in_flight = std::max(*max_in_flight, *in_flight);
    co_await rill::time::sleep(d);
    --*in_flight;
    co_return x;
}

struct tracker {
    int* in_flight;
    int* max_in_flight;
    rill::task<int> operator()(int x) const {
        return track(x, in_flight, max_in_flight, std::chrono::milliseconds(1 + (x * 7) % 13));
    }
};

TEST(stream_concurrent, buffer_unordered_bounds_in_flight) {
    int in_flight = 0, max_in_flight = 0;
    auto v = run_paused(st::iter(std::views::iota(0, 200)) | st::map(tracker{&in_flight, &max_in_flight}) |
                        st::buffer_unordered(8));
    EXPECT_EQ(v.size(), 200u);
    EXPECT_EQ(max_in_flight, 8);
    EXPECT_EQ(std::set<int>(v.begin(), v.end()).size(), 200u);
    EXPECT_FALSE(std::is_sorted(v.begin(), v.end()));  // completion order
}

TEST(stream_concurrent, buffered_keeps_input_order) {
    int in_flight = 0, max_in_flight = 0;
    auto v = run_paused(st::iter(std::views::iota(0, 100)) | st::map(tracker{&in_flight, &max_in_flight}) |
                        st::buffered(5));
    std::vector<int> expect(100);
    std::iota(expect.begin(), expect.end(), 0);
    EXPECT_EQ(v, expect);
    EXPECT_LE(max_in_flight, 5);
    EXPECT_GE(max_in_flight, 2);
}

rill::task<void> consume_tracked(int x, int* in_flight, int* max_in_flight, long* sum) {
    co_await track(x, in_flight, max_in_flight, 3ms);
    *sum += x;
}

struct consumer {
    int* in_flight;
    int* max_in_flight;
    long* sum;
    rill::task<void> operator()(int x) const { return consume_tracked(x, in_flight, max_in_flight, sum); }
};

TEST(stream_concurrent, for_each_concurrent_bounds_in_flight) {
    int in_flight = 0, max_in_flight = 0;
    long sum = 0;
    auto rt = paused().build();
    rt.block_on(st::iter(std::views::iota(0, 1000)) | st::for_each_concurrent(10, consumer{&in_flight, &max_in_flight, &sum}));
    EXPECT_EQ(sum, 999 * 1000 / 2);
    EXPECT_EQ(max_in_flight, 10);
}

rill::task<void> fail_on_3(int x) {
    co_await rill::time::sleep(1ms);
    if (x == 3) throw std::runtime_error("3");
}

TEST(stream_concurrent, for_each_concurrent_propagates_first_error) {
    auto rt = paused().build();
    EXPECT_THROW(rt.block_on(st::iter(std::views::iota(0, 10)) | st::for_each_concurrent(4, fail_on_3)),
                 std::runtime_error);
}

// --- time -------------------------------------------------------------------------------

TEST(stream_time, timeout_per_item_keeps_pending_item) {
    auto rt = paused().build();
    auto v = rt.block_on(drain(every(25ms, 1, 2) | st::timeout(10ms)));
    // item 1 at 25ms: one timeout (10) then the item; item 2 at 50ms: one at 35, then it.
    std::vector<int> shape;
    for (auto& e : v) shape.push_back(e ? *e : 0);
    EXPECT_EQ(shape, (std::vector<int>{0, 1, 0, 2}));
}

rill::task<std::vector<std::pair<bool, long>>> drain_timed(st::stream<std::expected<int, rill::time::elapsed>> s) {
    auto start = instant::now();
    std::vector<std::pair<bool, long>> out;
    for (;;) {
        auto v = co_await s.next();
        if (!v) break;
        out.emplace_back(v->has_value(), ms_since(start));
    }
    co_return out;
}

// tokio-stream's timeout: one Err(Elapsed) per stall, then the item whenever it comes.
TEST(stream_time, timeout_yields_one_error_per_stall) {
    auto rt = paused().build();
    auto v = rt.block_on(drain_timed(one_after(100ms, 1) | st::timeout(10ms)));
    EXPECT_EQ(v, (std::vector<std::pair<bool, long>>{{false, 10}, {true, 100}}));
}

// The deadline applies again to the item after a stall: 25ms gaps against 30ms pass.
TEST(stream_time, timeout_rearms_after_the_item) {
    auto rt = paused().build();
    auto v = rt.block_on(drain_timed(one_after(100ms, 1) | st::chain(every(25ms, 2, 2)) | st::timeout(30ms)));
    EXPECT_EQ(v, (std::vector<std::pair<bool, long>>{{false, 30}, {true, 100}, {true, 125}, {true, 150}}));
}

rill::task<int> forever() {
    co_await rill::time::sleep(1h);
    co_return 0;
}

// The input's body fails with its own rill::time::elapsed (an inner timeout).
st::stream<int> fails_with_inner_timeout() {
    co_yield 1;
    int v = co_await rill::time::timeout(5ms, forever());
    co_yield v;
}

rill::task<int> count_until_error(st::stream<std::expected<int, rill::time::elapsed>> s) {
    int items = 0;
    for (;;) {
        auto v = co_await s.next();
        if (!v) co_return items;
        if (!v->has_value()) co_return -1;  // reported as a per-item timeout
        ++items;
    }
}

// ... propagates as the input's exception, not as a per-item timeout (then a silent end).
TEST(stream_time, timeout_propagates_the_inputs_own_elapsed) {
    auto rt = paused().build();
    EXPECT_THROW(rt.block_on(count_until_error(fails_with_inner_timeout() | st::timeout(1s))), rill::time::elapsed);
}

rill::task<std::vector<int>> drain_expected_catching(st::stream<std::expected<int, rill::time::elapsed>> s) {
    std::vector<int> out;
    try {
        for (;;) {
            auto v = co_await s.next();
            if (!v) break;
            out.push_back(v->has_value() ? **v : 0);
        }
    } catch (const std::runtime_error&) {
        out.push_back(-1);
    }
    auto after = co_await s.next();  // ended
    out.push_back(after ? 99 : 0);
    co_return out;
}

TEST(stream_time, timeout_propagates_the_inputs_exception) {
    auto rt = paused().build();
    auto v = rt.block_on(drain_expected_catching(throws_after_two() | st::timeout(1s)));
    EXPECT_EQ(v, (std::vector<int>{1, 2, -1, 0}));
}

TEST(stream_time, throttle_spaces_items) {
    auto rt = paused().build();
    auto r = rt.block_on([]() -> rill::task<std::vector<long>> {
        auto start = instant::now();
        auto s = st::iter(std::vector<int>{1, 2, 3}) | st::throttle(100ms);
        std::vector<long> at;
        for (;;) {
            std::optional<int> v = co_await s.next();
            if (!v) break;
            at.push_back(ms_since(start));
        }
        co_return at;
    }());
    EXPECT_EQ(r, (std::vector<long>{0, 100, 200}));
}

// Both schedulers: a pipeline whose items come from other tasks.
class stream_flavors : public rill_test::both_flavors {};

rill::task<int> spawned_value(int x) { co_return x; }

struct spawner {
    rill::join_handle<int> operator()(int x) const { return rill::spawn(spawned_value(x)); }
};

TEST_P(stream_flavors, buffer_unordered_of_spawned_tasks) {
    auto rt = builder().enable_all().build();
    auto sum = rt.block_on(st::iter(std::views::iota(0, 5000)) | st::map(spawner{}) | st::buffer_unordered(64) |
                           st::fold(0L, std::plus<>{}));
    EXPECT_EQ(sum, 4999L * 5000 / 2);
}

RILL_BOTH_FLAVORS(stream_flavors);

}  // namespace
