// oneshot under races: send against receiver drop, close+try_recv, a waiting receiver,
// and sender drop. The value is delivered to exactly one side, exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "rill/rill.hpp"
#include "rill/test/mock_task.hpp"
#include "support/race.hpp"
#include "support/rt.hpp"

namespace {

namespace oneshot = rill::sync::oneshot;
using rill_test::drop_counter;
using rill_test::scaled;

class oneshot_stress : public rill_test::seeded {};

TEST_F(oneshot_stress, send_racing_receiver_drop) {
    const int rounds = static_cast<int>(scaled(50'000));
    std::atomic<int> dropped{0};
    std::optional<oneshot::receiver<drop_counter>> rx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer dropper([&](std::uint64_t) {
        rill_test::spin(delay.load());
        rx.reset();
    });
    int returned = 0;
    for (int i = 0; i < rounds; ++i) {
        auto [tx, r] = oneshot::channel<drop_counter>();
        rx.emplace(std::move(r));
        delay = rand(0, 200);
        const std::uint64_t mine = rand(0, 200);
        dropper.round([&](std::uint64_t) {
            rill_test::spin(mine);
            auto res = tx.send(drop_counter(&dropped));
            if (!res.has_value()) ++returned;  // handed back, destroyed here
        });
        ASSERT_EQ(dropped.load(), i + 1) << "round " << i << ": the value was lost or destroyed twice";
    }
    EXPECT_LE(returned, rounds);
}

TEST_F(oneshot_stress, send_racing_close_and_try_recv) {
    const int rounds = static_cast<int>(scaled(50'000));
    std::unique_ptr<oneshot::receiver<int>> rx;
    std::atomic<int> got{0};
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer receiver([&](std::uint64_t) {
        rill_test::spin(delay.load());
        rx->close();
        if (auto v = rx->try_recv(); v.has_value()) got.fetch_add(1);
    });
    for (int i = 0; i < rounds; ++i) {
        auto [tx, r] = oneshot::channel<int>();
        rx = std::make_unique<oneshot::receiver<int>>(std::move(r));
        got = 0;
        delay = rand(0, 200);
        const std::uint64_t mine = rand(0, 200);
        bool sent = false;
        receiver.round([&](std::uint64_t) {
            rill_test::spin(mine);
            sent = tx.send(i).has_value();
        });
        // A value that was sent before the close is still there for the receiver.
        if (auto v = rx->try_recv(); v.has_value()) {
            EXPECT_EQ(*v, i);
            got.fetch_add(1);
        } else {
            EXPECT_EQ(v.error(), oneshot::try_recv_status::closed);
        }
        ASSERT_EQ(got.load() + (sent ? 0 : 1), 1)
            << "round " << i << ": sent=" << sent << " received=" << got.load();
    }
}

rill::task<int> recv_ref(oneshot::receiver<int>* rx) { co_return co_await *rx; }

TEST_F(oneshot_stress, send_racing_a_waiting_receiver) {
    const int rounds = static_cast<int>(scaled(50'000));
    std::optional<oneshot::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer sender([&](std::uint64_t r) {
        rill_test::spin(delay.load());
        (void)tx->send(static_cast<int>(r));
        tx.reset();
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = oneshot::channel<int>();
        tx.emplace(std::move(t));
        delay = rand(0, 200);
        rill::test::mock_task<int> m(recv_ref(&rx));
        std::optional<int> value;
        sender.round([&](std::uint64_t) {
            auto p = m.poll();  // registers, or finds the value already there
            if (p.is_ready()) value = *p;
        });
        if (!value) {
            ASSERT_TRUE(m.is_woken()) << "round " << i << ": the wake was lost";
            auto p = m.poll();
            ASSERT_TRUE(p.is_ready());
            value = *p;
        }
        EXPECT_EQ(*value, static_cast<int>(i + 1));
    }
}

TEST_F(oneshot_stress, sender_drop_racing_a_waiting_receiver) {
    const int rounds = static_cast<int>(scaled(50'000));
    std::optional<oneshot::sender<int>> tx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer dropper([&](std::uint64_t) {
        rill_test::spin(delay.load());
        tx.reset();
    });
    for (int i = 0; i < rounds; ++i) {
        auto [t, rx] = oneshot::channel<int>();
        tx.emplace(std::move(t));
        delay = rand(0, 200);
        rill::test::mock_task<int> m(recv_ref(&rx));
        bool failed = false;
        dropper.round([&](std::uint64_t) {
            try {
                EXPECT_TRUE(m.poll().is_pending());
            } catch (const oneshot::recv_error&) {
                failed = true;
            }
        });
        if (!failed) {
            ASSERT_TRUE(m.is_woken()) << "round " << i << ": the wake was lost";
            EXPECT_THROW(m.poll(), oneshot::recv_error);
        }
    }
}

rill::task<void> wait_closed(oneshot::sender<int>* tx) { co_await tx->closed(); }

TEST_F(oneshot_stress, closed_racing_receiver_drop) {
    const int rounds = static_cast<int>(scaled(50'000));
    std::optional<oneshot::receiver<int>> rx;
    std::atomic<std::uint64_t> delay{0};
    rill_test::racer dropper([&](std::uint64_t) {
        rill_test::spin(delay.load());
        rx.reset();
    });
    for (int i = 0; i < rounds; ++i) {
        auto [tx, r] = oneshot::channel<int>();
        rx.emplace(std::move(r));
        delay = rand(0, 200);
        rill::test::mock_task<void> m(wait_closed(&tx));
        bool ready = false;
        dropper.round([&](std::uint64_t) { ready = m.poll().is_ready(); });
        if (!ready) {
            ASSERT_TRUE(m.is_woken()) << "round " << i;
            ASSERT_TRUE(m.poll().is_ready());
        }
    }
}

rill::task<long> relay_across_workers(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        auto [tx, rx] = oneshot::channel<int>();
        rill::spawn([](oneshot::sender<int> s, int v) -> rill::task<void> {
            (void)s.send(v);
            co_return;
        }(std::move(tx), i)).detach();
        sum += co_await std::move(rx);
    }
    co_return sum;
}

TEST_F(oneshot_stress, request_reply_across_workers) {
    auto rt = rill::builder::new_multi_thread().worker_threads(4).build();
    const int n = static_cast<int>(scaled(100'000));
    EXPECT_EQ(rt.block_on(relay_across_workers(n)), static_cast<long>(n) * (n - 1) / 2);
}

}  // namespace
