// Seeded stress for rill::signal: deliveries racing the destruction of waiting recv()s
// (the survivor is always woken, nothing touches a destroyed awaiter), and tasks that
// loop on recv() (two on each stream) aborted while signals fly. Replay a failure with RILL_SEED=<seed>.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <vector>

#include "rill/rill.hpp"
#include "rill/signal/signal.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

using rill::test::make_mock;
using rill_test::scaled;

class signal_stress : public rill_test::seeded {};

TEST_F(signal_stress, delivery_racing_waiter_destruction) {
    const int rounds = static_cast<int>(scaled(4'000));
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        ::kill(::getpid(), SIGUSR1);
    });
    auto s1 = rill::signal::signal(SIGUSR1);
    auto s2 = rill::signal::signal(SIGUSR1);
    for (int i = 0; i < rounds; ++i) {
        // Bring both streams up to date (earlier deliveries may still be remembered).
        while (make_mock(s1.recv()).poll().is_ready()) {
        }
        while (make_mock(s2.recv()).poll().is_ready()) {
        }
        auto doomed = std::unique_ptr<rill::test::mock_task<void>>(new rill::test::mock_task<void>(make_mock(s1.recv())));
        auto survivor = make_mock(s2.recv());
        if (doomed->poll().is_ready()) doomed.reset();
        if (survivor.poll().is_ready()) continue;  // a late delivery of the previous round
        delay = rand(0, 2000);
        const std::uint64_t mine = rand(0, 2000);
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            doomed.reset();
        });
        ASSERT_TRUE(rill_test::wait_until([&] { return survivor.is_woken(); })) << "round " << i;
        ASSERT_TRUE(survivor.poll().is_ready());
    }
}

rill::task<void> recv_loop(rill::signal::signal_stream* s, std::atomic<long>* seen) {
    for (;;) {
        co_await s->recv();
        seen->fetch_add(1);
    }
}

TEST_F(signal_stress, tasks_in_recv_aborted_while_signals_fly) {
    auto rt = rill_test::make_rt(rill::flavor::multi_thread, 2);
    // Streams first: they install the handler before the first SIGUSR2 is sent.
    std::vector<rill::signal::signal_stream> streams;
    for (int i = 0; i < 4; ++i) streams.push_back(rill::signal::signal(SIGUSR2));
    std::atomic<bool> stop{false};
    std::thread sender([&] {
        while (!stop.load()) {
            ::kill(::getpid(), SIGUSR2);
            std::this_thread::yield();
        }
    });
    const int rounds = static_cast<int>(scaled(400));
    std::atomic<long> seen{0};
    for (int i = 0; i < rounds; ++i) {
        std::vector<rill::join_handle<void>> hs;
        for (auto& s : streams) {  // two tasks on each stream: they share its seen_ (TSan)
            hs.push_back(rt.spawn(recv_loop(&s, &seen)));
            hs.push_back(rt.spawn(recv_loop(&s, &seen)));
        }
        rill_test::spin(rand(0, 20'000));
        for (auto& h : hs) h.abort();
        for (auto& h : hs) {
            try {
                rt.block_on([](rill::join_handle<void>* jh) -> rill::task<void> { co_await *jh; }(&h));
            } catch (const rill::join_error&) {
            }
        }
    }
    stop = true;
    sender.join();
    // Finally every stream still works: one more delivery reaches a fresh waiter.
    auto last = make_mock(streams[0].recv());
    (void)last.poll();
    ::kill(::getpid(), SIGUSR2);
    ASSERT_TRUE(rill_test::wait_until([&] { return last.is_complete() || last.is_woken(); }));
}

}  // namespace
