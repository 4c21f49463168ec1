// Channels: two producers, one consumer (Tokio's mpsc).
//
// mpsc::channel<T>(capacity) gives a sender and a receiver. Copying the sender makes
// another producer. The consumer loops on `co_await rx.recv()`, which returns
// std::optional<T>: a message, or std::nullopt once every sender is gone and everything
// they sent was received. Nothing else has to tell the consumer to stop.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include <rill/rill.hpp>
#include <rill/sync/mpsc.hpp>

namespace chapters::mpsc_two_producers {

namespace mpsc = rill::sync::mpsc;

// Each producer owns its sender (taken by value): when the task ends the sender is
// dropped, and with the last one the channel closes.
inline rill::task<void> produce(mpsc::sender<std::string> tx, std::string text) {
    if (auto r = co_await tx.send(std::move(text)); !r) {
        // The receiver is gone: the message comes back instead of being lost.
        std::printf("receiver gone, kept \"%s\"\n", r.error().value.c_str());
    }
}

inline rill::task<void> async_main() {
    auto [tx, rx] = mpsc::channel<std::string>(32);
    mpsc::sender<std::string> tx2 = tx;  // a second producer

    rill::spawn(produce(std::move(tx), "sending from first handle")).detach();
    rill::spawn(produce(std::move(tx2), "sending from second handle")).detach();

    int received = 0;
    while (std::optional<std::string> message = co_await rx.recv()) {
        std::printf("GOT = %s\n", message->c_str());
        ++received;
    }
    std::printf("every sender dropped: recv() returned std::nullopt after %d messages\n", received);
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::mpsc_two_producers
