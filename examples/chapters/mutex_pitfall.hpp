// Chapter: std::mutex across co_await — the pitfall and its two fixes.
//
// A std::mutex (or any blocking lock) held while a task is suspended at co_await stays
// locked for as long as the task sleeps. Another task on the same worker that calls
// lock() then blocks the worker's thread, and the holder, which needs that thread to
// resume and unlock, never runs again: a deadlock (certain on a single worker, likely
// on a busy pool). On a thread pool the task may also resume on another thread, and
// unlocking a std::mutex there is undefined behaviour. The fixes:
//   1. keep the std::mutex's scope free of co_await: lock, update, unlock, then await;
//   2. or use rill::sync::mutex, whose guard may be held across co_await: a task that
//      waits for it suspends instead of blocking the thread.
// This chapter runs on one worker (current_thread runtime) and shows the problem
// safely, with try_lock() where a real program would call lock() and hang.
#pragma once

#include <cstdio>
#include <mutex>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::mutex_pitfall {

struct shared {
    std::mutex m;
    int value = 0;
};

// THE PITFALL (for demonstration): a std::lock_guard alive across a co_await.
inline rill::task<void> holds_across_await(shared& s, rill::sync::notify& suspended, rill::sync::notify& resume) {
    std::lock_guard guard(s.m);
    s.value += 1;
    suspended.notify_one();
    co_await resume.notified();  // suspended, and s.m is still locked
}

// Another task that needs the same std::mutex. A real program would call s.m.lock()
// here and block the only worker thread forever; try_lock() shows it without hanging.
inline rill::task<bool> would_block(shared& s) {
    if (s.m.try_lock()) {
        s.m.unlock();
        co_return false;
    }
    co_return true;
}

// FIX 1: the std::mutex is released before the task suspends.
inline rill::task<void> scoped_guard(shared& s) {
    {
        std::lock_guard guard(s.m);
        s.value += 1;
    }  // unlocked here, before any co_await
    co_await rill::yield_now();
}

// FIX 2: an async mutex; its guard may stay alive across co_await.
inline rill::task<void> async_mutex(rill::sync::mutex<int>& m) {
    auto guard = co_await m.lock();
    *guard += 1;
    co_await rill::yield_now();  // others that want the lock wait suspended, not blocked
}

inline rill::task<void> async_main() {
    shared s;
    rill::sync::notify suspended, resume;
    rill::join_handle<void> holder = rill::spawn(holds_across_await(s, suspended, resume));
    co_await suspended.notified();
    const bool blocked = co_await rill::spawn(would_block(s));
    std::printf("pitfall: a task is suspended at co_await holding a std::mutex\n");
    std::printf("another task's lock() would block the worker thread: %s (on one worker: deadlock)\n",
                blocked ? "yes" : "no");
    resume.notify_one();
    co_await holder;  // only now is the std::mutex released

    std::vector<rill::join_handle<void>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(rill::spawn(scoped_guard(s)));
    for (auto& t : tasks) co_await t;
    std::printf("fix 1, std::mutex released before co_await: 100 tasks done, value = %d\n", s.value - 1);

    rill::sync::mutex<int> m(0);
    tasks.clear();
    for (int i = 0; i < 100; ++i) tasks.push_back(rill::spawn(async_mutex(m)));
    for (auto& t : tasks) co_await t;
    auto guard = co_await m.lock();
    std::printf("fix 2, rill::sync::mutex held across co_await: 100 tasks done, value = %d\n", *guard);
}

inline int run() { return rill::run(rill::builder::new_current_thread(), async_main()); }

}  // namespace chapters::mutex_pitfall
