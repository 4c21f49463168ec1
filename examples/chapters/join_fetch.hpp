// Chapter: join — waiting for several things at once.
//
// rill::future::join(a, b) runs both awaitables concurrently inside the current task
// (no new task, no other thread: their code interleaves at suspension points) and
// returns a tuple of their results once both are done. Two fetches of 2 s and 3 s take
// 3 s together, not 5: on the paused test clock, exactly 3 s.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include <rill/rill.hpp>

namespace chapters::join_fetch {

using namespace std::chrono_literals;

inline rill::task<std::string> fetch(std::string what, rill::time::duration latency) {
    co_await rill::time::sleep(latency);  // stands for the network
    co_return "<" + what + ">";
}

inline rill::task<void> async_main() {
    const auto start = rill::time::instant::now();
    auto [user, posts] = co_await rill::future::join(fetch("user", 2s), fetch("posts", 3s));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rill::time::instant::now() - start);
    std::printf("user = %s, posts = %s\n", user.c_str(), posts.c_str());
    std::printf("both fetched after %lld ms\n", static_cast<long long>(ms.count()));
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::join_fetch
