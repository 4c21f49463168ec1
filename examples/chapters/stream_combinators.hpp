// Chapter: stream combinators.
//
// Adapters compose with `|`: each takes the stream on its left and returns a new one.
// The callables are stored in the adapter's coroutine frame, so lambdas that capture
// are fine here (they are not coroutines themselves). collect<C>() runs the pipeline
// and returns a task with the container.
#pragma once

#include <cstdio>
#include <ranges>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::stream_combinators {

inline rill::task<void> async_main() {
    namespace stream = rill::stream;
    std::vector<int> v = co_await (stream::iter(std::views::iota(1, 21))
                                   | stream::filter([](int x) { return x % 2 == 0; })
                                   | stream::map([](int x) { return x * x; })
                                   | stream::take(3)
                                   | stream::collect<std::vector<int>>());
    std::printf("[");
    for (std::size_t i = 0; i < v.size(); ++i) std::printf(i ? ", %d" : "%d", v[i]);
    std::printf("]\n");
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::stream_combinators
