// mpsc under races (run under TSan, replay with RILL_SEED): wakes racing the destruction
// of waiting recv / send / reserve, close racing send and recv, and many producers against
// one consumer with count and sum checked. Every message ends in exactly one place.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "rill/rill.hpp"
#include "rill/sync/mpsc.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

namespace mpsc = rill::sync::mpsc;
using rill::test::make_mock;
using rill_test::drop_counter;
using rill_test::scaled;

class mpsc_stress : public rill_test::seeded {};

template <class A>
auto boxed(A&& a) {
    using M = decltype(make_mock(std::forward<A>(a)));
    return std::unique_ptr<M>(new M(make_mock(std::forward<A>(a))));
}

TEST_F(mpsc_stress, send_racing_destruction_of_a_parked_recv_keeps_the_message) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<mpsc::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t r) {
        rill_test::spin(delay.load());
        ASSERT_TRUE(tx->try_send(static_cast<int>(r)).has_value());
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = mpsc::channel<int>(1);
        tx.emplace(std::move(t));
        auto m = boxed(rx.recv());
        ASSERT_TRUE(m->poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        std::uint64_t round = 0;
        sender.round([&](std::uint64_t r) {
            round = r;
            rill_test::spin(mine);
            m.reset();  // destroyed before, during or after the wake
        });
        auto v = rx.try_recv();
        ASSERT_TRUE(v.has_value()) << "round " << i << ": the message was lost";
        ASSERT_EQ(static_cast<std::uint64_t>(*v), round);
        tx.reset();
    }
}

TEST_F(mpsc_stress, recv_racing_a_send_from_another_thread_is_never_missed) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<mpsc::unbounded_sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t) {
        rill_test::spin(delay.load());
        ASSERT_TRUE(tx->send(1).has_value());
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = mpsc::unbounded_channel<int>();
        tx.emplace(std::move(t));
        auto m = make_mock(rx.recv());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        bool ready = false;
        sender.round([&](std::uint64_t) {
            rill_test::spin(mine);
            ready = m.poll().is_ready();  // registers, or finds the message
        });
        if (!ready) {
            ASSERT_TRUE(m.is_woken()) << "round " << i << ": lost wake-up";
            ASSERT_TRUE(m.poll().is_ready());
        }
        tx.reset();
    }
}

TEST_F(mpsc_stress, grant_racing_destruction_of_a_waiting_send) {
    // The receiver frees the slot (granting it to the waiting send, which pushes its
    // message) while the sending coroutine is destroyed: the message is either delivered
    // or dropped unsent, never both, never half; capacity comes back in full.
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<mpsc::receiver<drop_counter>> rx;
    std::atomic<std::uint64_t> delay{0};
    std::atomic<int> received{0};
    rill_test::racer receiver([&](std::uint64_t) {
        rill_test::spin(delay.load());
        if (rx->try_recv().has_value()) received.fetch_add(1);
    });
    for (int i = 0; i < rounds; ++i) {
        std::atomic<int> drops{0};
        auto [tx, r] = mpsc::channel<drop_counter>(1);
        rx.emplace(std::move(r));
        ASSERT_TRUE(tx.try_send(drop_counter(nullptr)).has_value());
        auto s = boxed(tx.send(drop_counter(&drops)));
        ASSERT_TRUE(s->poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        receiver.round([&](std::uint64_t) {
            rill_test::spin(mine);
            s.reset();
        });
        // Drain: the first message went to the racer; the second is in the channel iff
        // the grant happened before the destruction.
        int left = 0;
        while (rx->try_recv().has_value()) ++left;
        ASSERT_LE(left, 1);
        ASSERT_EQ(drops.load(), 1) << "round " << i << ": the message was lost or duplicated";
        ASSERT_EQ(tx.capacity(), 1u) << "round " << i << ": a permit leaked";
        rx.reset();
    }
    EXPECT_EQ(received.load(), rounds);
}

TEST_F(mpsc_stress, permit_granted_to_a_destroyed_reserve_reaches_the_next_waiter) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<mpsc::receiver<int>> rx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer receiver([&](std::uint64_t) {
        rill_test::spin(delay.load());
        ASSERT_TRUE(rx->try_recv().has_value());
    });
    for (int i = 0; i < rounds; ++i) {
        auto [tx, r] = mpsc::channel<int>(1);
        rx.emplace(std::move(r));
        ASSERT_TRUE(tx.try_send(1).has_value());
        auto a = boxed(tx.reserve());
        auto b = make_mock(tx.send(2));
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        receiver.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
        });
        ASSERT_TRUE(b.is_woken()) << "round " << i << ": the permit was lost";
        ASSERT_TRUE(b.poll().is_ready());
        ASSERT_EQ(rx->try_recv().value(), 2);
        rx.reset();
    }
}

TEST_F(mpsc_stress, receiver_drop_racing_destruction_of_a_parked_closed_wait) {
    const int rounds = static_cast<int>(scaled(20'000));
    std::optional<mpsc::receiver<int>> rx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer dropper([&](std::uint64_t) {
        rill_test::spin(delay.load());
        rx.reset();
    });
    for (int i = 0; i < rounds; ++i) {
        auto [tx, r] = mpsc::channel<int>(1);
        rx.emplace(std::move(r));
        auto a = boxed(tx.closed());
        auto b = make_mock(tx.closed());
        ASSERT_TRUE(a->poll().is_pending());
        ASSERT_TRUE(b.poll().is_pending());
        delay = rand(0, 300);
        const std::uint64_t mine = rand(0, 300);
        dropper.round([&](std::uint64_t) {
            rill_test::spin(mine);
            a.reset();
        });
        ASSERT_TRUE(b.is_woken()) << "round " << i;
        ASSERT_TRUE(b.poll().is_ready());
        ASSERT_TRUE(tx.is_closed());
    }
}

TEST_F(mpsc_stress, close_racing_senders_every_message_delivered_or_returned) {
    const int rounds = static_cast<int>(scaled(2'000));
    for (int i = 0; i < rounds; ++i) {
        auto [tx, rx] = mpsc::channel<int>(4);
        std::atomic<int> returned{0};
        std::atomic<int> sent{0};
        const int per = static_cast<int>(rand(1, 40));
        std::vector<std::thread> senders;
        for (int t = 0; t < 2; ++t) {
            senders.emplace_back([&, tx = tx, per]() mutable {
                for (int k = 0; k < per; ++k) {
                    for (;;) {
                        auto r = tx.try_send(k);
                        if (r) {
                            sent.fetch_add(1);
                            break;
                        }
                        if (r.error().is_closed()) {
                            returned.fetch_add(1);
                            break;
                        }
                        std::this_thread::yield();  // full
                    }
                }
            });
        }
        int received = 0;
        const std::uint64_t close_after = rand(0, 2 * per);
        for (std::uint64_t k = 0;; ++k) {
            if (k == close_after) rx.close();
            auto v = rx.try_recv();
            if (v) {
                ++received;
            } else if (v.error() == mpsc::try_recv_error::disconnected) {
                break;
            } else {
                std::this_thread::yield();
            }
        }
        for (auto& t : senders) t.join();
        while (rx.try_recv()) ++received;
        ASSERT_EQ(received, sent.load()) << "round " << i;
        ASSERT_EQ(sent.load() + returned.load(), 2 * per) << "round " << i;
    }
}

rill::task<> producer(mpsc::sender<std::uint64_t> tx, std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        if (!co_await tx.send(i)) co_return;
    }
}

rill::task<std::pair<std::uint64_t, std::uint64_t>> consume(mpsc::receiver<std::uint64_t> rx) {
    std::uint64_t count = 0, sum = 0;
    std::vector<std::uint64_t> buf;
    for (;;) {
        buf.clear();
        const std::size_t n = co_await rx.recv_many(buf, 7);
        if (n == 0) break;
        for (std::uint64_t v : buf) {
            ++count;
            sum += v;
        }
    }
    co_return std::pair{count, sum};
}

rill::task<std::pair<std::uint64_t, std::uint64_t>> fan_in(std::size_t producers, std::size_t cap,
                                                           std::uint64_t per) {
    auto [tx, rx] = mpsc::channel<std::uint64_t>(cap);
    for (std::size_t p = 0; p < producers; ++p) rill::spawn(producer(tx, per)).detach();
    { auto gone = std::move(tx); }
    co_return co_await consume(std::move(rx));
}

TEST_F(mpsc_stress, many_producers_one_consumer_count_and_sum) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    const int rounds = static_cast<int>(scaled(40));
    for (int i = 0; i < rounds; ++i) {
        const std::size_t producers = rand(1, 16);
        const std::size_t cap = rand(1, 64);
        const std::uint64_t per = rand(0, scaled(4'000));
        auto [count, sum] = rt.block_on(fan_in(producers, cap, per));
        ASSERT_EQ(count, producers * per) << "round " << i;
        ASSERT_EQ(sum, producers * (per * (per == 0 ? 0 : per - 1) / 2)) << "round " << i;
    }
}

// Tasks waiting in send and recv aborted at random while the channel is busy.
rill::task<> send_loop(mpsc::sender<int> tx) {
    for (int i = 0;; ++i) {
        if (!co_await tx.send(i)) co_return;
    }
}

rill::task<> recv_loop(mpsc::receiver<int>* rx, std::atomic<long>* got) {
    for (;;) {
        std::optional<int> v = co_await rx->recv();
        if (!v) co_return;
        got->fetch_add(1);
    }
}

TEST_F(mpsc_stress, senders_and_receiver_aborted_while_messages_flow) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    auto [tx, rx] = mpsc::channel<int>(2);
    std::atomic<long> got{0};
    const int rounds = static_cast<int>(scaled(2'000));
    std::vector<rill::join_handle<void>> senders;
    std::optional<rill::join_handle<void>> receiver;
    for (int i = 0; i < rounds; ++i) {
        if (senders.size() < 6) senders.push_back(rt.spawn(send_loop(tx)));
        if (!receiver) receiver.emplace(rt.spawn(recv_loop(&rx, &got)));
        if (coin()) {
            const std::size_t k = rand(0, senders.size() - 1);
            senders[k].abort();
            senders.erase(senders.begin() + static_cast<std::ptrdiff_t>(k));
        }
        if (rand(0, 3) == 0) {
            receiver->abort();
            EXPECT_TRUE(rill_test::wait_until([&] { return receiver->is_finished(); }));
            receiver.reset();
        }
        rill_test::spin(rand(0, 2000));
    }
    for (auto& h : senders) h.abort();
    if (receiver) receiver->abort();
    // is_finished() (not the relaxed task metrics) orders the tasks' last use of the
    // channel before the checks below.
    for (auto& h : senders) EXPECT_TRUE(rill_test::wait_until([&] { return h.is_finished(); }));
    if (receiver) {
        EXPECT_TRUE(rill_test::wait_until([&] { return receiver->is_finished(); }));
    }
    // Still consistent: drain, then the full capacity is free again.
    while (rx.try_recv()) {
    }
    EXPECT_EQ(tx.capacity(), 2u);
    EXPECT_GT(got.load(), 0);
}

}  // namespace
