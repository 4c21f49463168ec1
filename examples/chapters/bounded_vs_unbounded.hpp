// Channels: bounded or unbounded? (the guide's advice on backpressure)
//
// A bounded channel (mpsc::channel<T>(n)) holds at most n messages: when it is full a
// sender waits in `co_await tx.send(v)` until the consumer makes room. A producer that is
// faster than its consumer is slowed down to the consumer's pace, and memory stays
// bounded. try_send does not wait: it reports "full" and hands the message back.
//
// An unbounded channel (mpsc::unbounded_channel<T>()) never makes a sender wait: send is
// a plain function call. If the consumer falls behind, messages pile up in memory without
// limit. Prefer bounded channels; use unbounded ones only where the producer cannot wait
// (a synchronous callback) and the rate is known to be small.
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <utility>

#include <rill/rill.hpp>
#include <rill/sync/mpsc.hpp>

namespace chapters::bounded_vs_unbounded {

namespace mpsc = rill::sync::mpsc;

inline rill::task<void> fast_producer(mpsc::sender<int>* tx, std::atomic<int>* accepted) {
    for (int i = 3; i <= 4; ++i) {
        (void)co_await tx->send(i);  // waits while the channel is full
        accepted->fetch_add(1);
    }
}

inline rill::task<void> async_main() {
    auto [tx, rx] = mpsc::channel<int>(2);
    (void)tx.try_send(1);
    (void)tx.try_send(2);
    std::printf("bounded channel of 2: holds %zu messages, capacity() = %zu\n", rx.len(), tx.capacity());
    if (auto r = tx.try_send(99); !r && r.error().is_full())
        std::printf("try_send on the full channel: full, message %d handed back\n", r.error().value);

    // A producer that sends 3 and 4 must wait for room.
    std::atomic<int> accepted{0};
    rill::join_handle<void> producer = rill::spawn(fast_producer(&tx, &accepted));
    for (int i = 0; i < 10; ++i) co_await rill::yield_now();  // give it every chance to run
    std::printf("the producer is waiting: %d of 2 further sends accepted, %zu buffered\n", accepted.load(),
                rx.len());

    // The (slow) consumer takes messages one by one; each makes room for one send.
    for (int expected = 1; expected <= 4; ++expected) {
        std::optional<int> v = co_await rx.recv();
        std::printf("consumer got %d\n", v.value_or(-1));
    }
    co_await producer;
    std::printf("the producer finished once the consumer made room: %d accepted\n", accepted.load());

    // Unbounded: the sender never waits, the backlog just grows.
    auto [utx, urx] = mpsc::unbounded_channel<int>();
    for (int i = 0; i < 100'000; ++i) (void)utx.send(i);
    std::printf("unbounded channel: 100000 sends never waited; %zu messages now sit in memory\n", urx.len());
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::bounded_vs_unbounded
