// Chapter: writing a stream — an async generator.
//
// A coroutine returning rill::stream::stream<T> may both co_await and co_yield: it
// runs only when the consumer asks for the next item, and ends when it returns.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>

#include <rill/rill.hpp>

namespace chapters::countdown {

using namespace std::chrono_literals;

inline rill::stream::stream<int> countdown(int from) {
    for (int i = from; i > 0; --i) {
        co_await rill::time::sleep(1s);
        co_yield i;
    }
}

inline rill::task<void> async_main() {
    auto s = countdown(5);
    for (;;) {
        std::optional<int> v = co_await s.next();
        if (!v) break;
        std::printf("%d...\n", *v);
    }
    std::printf("Liftoff!\n");
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::countdown
