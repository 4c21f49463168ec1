// Chapter 6: configuring the runtime.
//
// rill::run(task) uses a default multi-thread runtime (one worker per CPU). For
// anything else, describe the runtime with rill::builder (Tokio's runtime::Builder),
// build() it, and block_on() the main task:
//   worker_threads(n)        how many workers run tasks
//   thread_name("name")      the name every runtime thread gets (see `top -H`, gdb)
//   thread_name_fn(fn)       or a name per thread, computed as each thread starts
//   on_thread_start(fn)      runs on each new runtime thread, after it is named
//   on_thread_stop(fn)       runs on each runtime thread just before it exits
// The hooks also run on blocking-pool threads (spawn_blocking); this chapter spawns no
// blocking work, so the threads counted here are exactly the workers.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::runtime_builder {

/// The calling thread's name, as set by the runtime (pthread_setname_np).
inline std::string current_thread_name() {
    char buf[16] = {};  // the kernel limit: 15 characters and the terminator
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    return buf;
}

inline rill::task<std::string> report_thread_name() { co_return current_thread_name(); }

// Spawns `n` tasks and collects the distinct names of the threads they ran on.
inline rill::task<std::set<std::string>> names_seen_by_tasks(int n) {
    std::vector<rill::join_handle<std::string>> handles;
    for (int i = 0; i < n; ++i) handles.push_back(rill::spawn(report_thread_name()));
    std::set<std::string> names;
    for (auto& h : handles) names.insert(co_await h);
    co_return names;
}

inline std::string join(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

inline void fixed_name() {
    std::atomic<int> started{0};
    std::atomic<int> stopped{0};
    std::size_t workers = 0;
    std::set<std::string> names;
    {
        rill::runtime rt = rill::builder::new_multi_thread()
                               .worker_threads(4)
                               .thread_name("my-worker")
                               .on_thread_start([&started] { started.fetch_add(1); })
                               .on_thread_stop([&stopped] { stopped.fetch_add(1); })
                               .enable_all()
                               .build();
        workers = rt.metrics().num_workers;
        names = rt.block_on(names_seen_by_tasks(16));
    }  // ~runtime: stops and joins the workers, so both hooks have run for each of them
    std::printf("runtime had %zu workers\n", workers);
    std::printf("16 tasks ran on threads named: %s\n", join(names).c_str());
    std::printf("started %d worker threads, stopped %d\n", started.load(), stopped.load());
}

inline void name_per_thread() {
    std::atomic<int> next_id{0};
    std::mutex mutex;
    std::set<std::string> started;  // the names the start hook saw, guarded by mutex
    {
        rill::runtime rt = rill::builder::new_multi_thread()
                               .worker_threads(4)
                               .thread_name_fn([&next_id] { return "my-worker-" + std::to_string(next_id++); })
                               .on_thread_start([&] {
                                   std::lock_guard lock(mutex);
                                   started.insert(current_thread_name());
                               })
                               .enable_all()
                               .build();
        const std::set<std::string> names = rt.block_on(names_seen_by_tasks(16));
        // A worker runs its start hook before any task, so every name a task saw is known.
        std::lock_guard lock(mutex);
        const bool all_named = std::ranges::all_of(names, [&](const std::string& n) { return started.contains(n); });
        std::printf("every task ran on a thread named by thread_name_fn: %s\n", all_named ? "yes" : "no");
    }
    std::printf("thread_name_fn named the workers: %s\n", join(started).c_str());
}

inline int run() {
    fixed_name();
    name_per_thread();
    return 0;
}

}  // namespace chapters::runtime_builder
