// Chapter: graceful shutdown — a cancellation token, ctrl_c, and tasks that finish cleanly.
//
// Three workers loop over "jobs" (a short sleep each). Every iteration selects between
// the next job and the shutdown token: when Ctrl-C arrives, main cancels the token, each
// worker notices it at its next select, finishes (its destructors run, nothing is
// abandoned half-way) and returns how many jobs it completed; main joins all of them and
// only then exits. Tokio's version: CancellationToken + tokio::signal::ctrl_c + select!.
//
// `simulate` makes the chapter send itself SIGINT after 300 ms (for the tour and the
// checked example); without it the program waits for a real Ctrl-C.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::graceful_shutdown {

using namespace std::chrono_literals;

/// One worker: jobs until the token is cancelled. Returns the number of jobs done.
inline rill::task<int> worker(int id, rill::sync::cancellation_token token) {
    int jobs = 0;
    for (;;) {
        auto r = co_await rill::future::select(token.cancelled(), rill::time::sleep(20ms * id));
        if (r.index() == 0) break;  // shutdown requested: stop between jobs, never inside one
        ++jobs;
    }
    co_return jobs;
}

inline rill::task<void> send_sigint_after(rill::time::duration d) {
    co_await rill::time::sleep(d);
    std::raise(SIGINT);
}

inline rill::task<int> async_main(bool simulate) {
    rill::sync::cancellation_token token;
    std::vector<rill::join_handle<int>> workers;
    for (int id = 1; id <= 3; ++id) workers.push_back(rill::spawn(worker(id, token.child_token())));

    // Listen before announcing "ready", so a SIGINT sent right after is not missed.
    rill::task<void> ctrl_c = rill::signal::ctrl_c();
    std::printf("server ready: 3 workers running, press Ctrl-C to stop\n");
    std::fflush(stdout);
    if (simulate) rill::spawn(send_sigint_after(300ms)).detach();

    co_await std::move(ctrl_c);
    std::printf("ctrl-c received: cancelling the token\n");
    token.cancel();

    for (std::size_t i = 0; i < workers.size(); ++i) {
        const int jobs = co_await workers[i];
        std::printf("worker %zu stopped cleanly after %d job%s\n", i + 1, jobs, jobs == 1 ? "" : "s");
    }
    std::printf("shutdown complete\n");
    co_return 0;
}

inline int run(bool simulate = true) { return rill::run(async_main(simulate)); }

}  // namespace chapters::graceful_shutdown
