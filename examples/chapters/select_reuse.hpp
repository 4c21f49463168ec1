// Chapter: reusing a future across select iterations.
//
// Rust pins a future and selects on `&mut future` in a loop, so a slow operation is
// not restarted each time another branch fires. In rill, pass the task as an lvalue
// (or through rill::future::by_ref): the branch awaits it by reference. When another
// branch wins, the task stays where it is, still registered with what it waits on;
// the next select continues it.
#pragma once

#include <chrono>
#include <cstdio>

#include <rill/rill.hpp>

namespace chapters::select_reuse {

using namespace std::chrono_literals;

inline rill::task<const char*> slow_operation(int* starts) {
    ++*starts;
    co_await rill::time::sleep(1s);
    co_return "slow operation done";
}

inline rill::task<void> async_main() {
    const auto start = rill::time::instant::now();
    int starts = 0;
    auto op = slow_operation(&starts);
    rill::time::interval ticks(300ms);
    for (;;) {
        auto r = co_await rill::future::select(rill::future::by_ref(op), ticks.tick());
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(rill::time::instant::now() - start);
        if (r.index() == 0) {
            std::printf("%s at %lld ms (started %d time)\n", r.get<0>(), static_cast<long long>(ms.count()), starts);
            break;
        }
        std::printf("tick at %lld ms\n", static_cast<long long>(ms.count()));
    }
}

inline int run() {
    return rill::run(rill::builder::new_current_thread().enable_all().start_paused(true), async_main());
}

}  // namespace chapters::select_reuse
