// A losing select branch is destroyed before select returns, and with it what it holds or
// waits for (issue: "cancellation of a losing branch runs its destructors at once"): a
// lock it waited for is not taken, a permit it held or waited for goes back to the
// semaphore, a socket it opened is closed (the peer reads EOF).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>

#include "rill/rill.hpp"

using namespace std::chrono_literals;
namespace fut = rill::future;

namespace {

rill::builder paused() { return rill::builder::new_current_thread().enable_all().start_paused(true); }

// --- a lock the loser waited for is not taken --------------------------------------------

rill::task<void> lock_and_hold(rill::sync::mutex<int>* m, bool* taken) {
    auto g = co_await m->lock();
    *taken = true;
    co_await rill::time::sleep(1h);
}

rill::task<bool> mutex_scenario() {
    rill::sync::mutex<int> m(0);
    bool taken = false;
    auto held = co_await m.lock();  // the loser has to queue behind this guard
    auto r = co_await fut::select_biased(lock_and_hold(&m, &taken), rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    held.unlock();  // would hand the lock to the loser's waiter if it were still queued
    auto again = m.try_lock();
    co_return again.has_value() && !taken;
}

TEST(future_cancel_resources, a_lock_the_loser_waited_for_is_not_taken) {
    auto rt = paused().build();
    EXPECT_TRUE(rt.block_on(mutex_scenario()));
}

// --- a permit the loser held, or waited for, goes back ---------------------------------

rill::task<void> acquire_and_hold(rill::sync::semaphore* s, int* acquired) {
    auto p = co_await s->acquire();
    ++*acquired;
    co_await rill::time::sleep(1h);
}

rill::task<std::size_t> held_permit_scenario() {
    rill::sync::semaphore s(1);
    int acquired = 0;
    auto r = co_await fut::select_biased(acquire_and_hold(&s, &acquired), rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(acquired, 1);  // the loser did take the permit before it lost
    co_return s.available_permits();
}

TEST(future_cancel_resources, a_permit_the_loser_held_is_returned) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(held_permit_scenario()), 1u);
}

rill::task<std::size_t> queued_permit_scenario() {
    rill::sync::semaphore s(0);
    int acquired = 0;
    auto r = co_await fut::select_biased(acquire_and_hold(&s, &acquired), rill::time::sleep(10ms));
    EXPECT_EQ(r.index(), 1u);
    s.add_permits(1);  // would go to the loser's waiter if it were still queued
    EXPECT_EQ(acquired, 0);
    co_return s.available_permits();
}

TEST(future_cancel_resources, a_permit_the_loser_waited_for_stays_available) {
    auto rt = paused().build();
    EXPECT_EQ(rt.block_on(queued_permit_scenario()), 1u);
}

// --- a socket the loser opened is closed -------------------------------------------------

rill::task<void> connect_and_hold(rill::net::socket_addr addr) {
    rill::net::tcp_stream s = co_await rill::net::tcp_stream::connect(addr);
    co_await rill::time::sleep(1h);  // holds the connection open while it lives
}

rill::task<rill::net::tcp_stream> accept_one(rill::net::tcp_listener* l) {
    rill::net::tcp_accepted a = co_await l->accept();
    co_return std::move(a.stream);
}

rill::task<std::size_t> read_once(rill::net::tcp_stream* s) {
    std::array<std::byte, 16> buf{};
    co_return co_await s->read(buf);
}

rill::task<std::size_t> socket_scenario() {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    const rill::net::socket_addr addr = l.local_addr();
    auto r = co_await fut::select_biased(connect_and_hold(addr), accept_one(&l));
    EXPECT_EQ(r.index(), 1u);
    rill::net::tcp_stream server = std::move(r).get<1>();
    // The loser (and its stream) is gone: the server side reads EOF at once, instead of
    // waiting an hour for a peer that is still connected. The timeout turns a leak into
    // a failure rather than a hang.
    co_return co_await rill::time::timeout(10s, read_once(&server));
}

TEST(future_cancel_resources, a_socket_the_loser_opened_is_closed) {
    auto rt = rill::builder::new_multi_thread().worker_threads(2).enable_all().build();
    EXPECT_EQ(rt.block_on(socket_scenario()), 0u);
}

}  // namespace
