#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "rill/rill.hpp"

namespace {

rill::task<int> value(int v) { co_return v; }

rill::task<void> wait_forever(rill::sync::notify* n) { co_await n->notified(); }

rill::task<int> abort_then_join() {
    rill::sync::notify never;
    auto h = rill::spawn(wait_forever(&never));
    co_await rill::yield_now();
    h.abort();
    try {
        co_await h;
    } catch (const rill::join_error& e) {
        co_return e.is_cancelled() ? 1 : 2;
    }
    co_return 0;
}

TEST(spawn, abort_gives_cancelled_join_error) { EXPECT_EQ(rill::block_on(abort_then_join()), 1); }

rill::task<int> oneshot_roundtrip() {
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    auto sender = [](rill::sync::oneshot::sender<int> s) -> rill::task<void> {
        auto r = s.send(7);
        (void)r;
        co_return;
    };
    rill::spawn(sender(std::move(tx))).detach();
    co_return co_await std::move(rx);
}

TEST(oneshot, roundtrip) { EXPECT_EQ(rill::block_on(oneshot_roundtrip()), 7); }

TEST(runtime, current_thread_runs_spawned_tasks) {
    auto rt = rill::builder::new_current_thread().build();
    auto body = []() -> rill::task<int> {
        auto a = rill::spawn(value(1));
        auto b = rill::spawn(value(2));
        co_return co_await a + co_await b;
    };
    EXPECT_EQ(rt.block_on(body()), 3);
}

}  // namespace
