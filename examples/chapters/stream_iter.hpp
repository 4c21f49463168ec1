// Chapter: streams — iter.
//
// A rill::stream::stream<T> is an async sequence: `co_await s.next()` gives the next
// item, std::nullopt at the end. stream::iter(range) turns any range into one.
#pragma once

#include <cstdio>
#include <optional>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::stream_iter {

inline rill::task<void> async_main() {
    auto s = rill::stream::iter(std::vector<int>{1, 2, 3, 4, 5});
    for (;;) {
        std::optional<int> v = co_await s.next();
        if (!v) break;
        std::printf("%d\n", *v);
    }
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::stream_iter
