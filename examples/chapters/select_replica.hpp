// Chapter: select — the first one wins, the others are cancelled.
//
// rill::future::select(a, b, c) runs its arguments concurrently inside the task and
// returns as soon as one finishes; every other one is destroyed before select returns
// (its destructors run: here the replica's guard prints). The result's index() says
// which won. Branches start in a random order per call, as Tokio's select! does.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include <rill/rill.hpp>

namespace chapters::select_replica {

using namespace std::chrono_literals;

struct on_cancel {
    const char* who;
    bool done = false;
    ~on_cancel() {
        if (!done) std::printf("%s cancelled\n", who);
    }
};

inline rill::task<std::string> query(const char* who, rill::time::duration latency) {
    on_cancel guard{who};
    co_await rill::time::sleep(latency);
    guard.done = true;
    co_return std::string(who) + " answered";
}

inline rill::task<void> async_main() {
    const auto start = rill::time::instant::now();
    auto r = co_await rill::future::select(rill::time::sleep(5s), query("primary", 2s), query("replica", 3s));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rill::time::instant::now() - start);
    switch (r.index()) {
        case 0: std::printf("timed out after %lld ms\n", static_cast<long long>(ms.count())); break;
        case 1: std::printf("%s after %lld ms\n", r.get<1>().c_str(), static_cast<long long>(ms.count())); break;
        case 2: std::printf("%s after %lld ms\n", r.get<2>().c_str(), static_cast<long long>(ms.count())); break;
    }
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::select_replica
