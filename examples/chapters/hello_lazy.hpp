// Chapter 1: futures are lazy.
//
// Calling a coroutine that returns rill::task<T> runs none of its body: it only
// allocates the coroutine frame and hands back the task. The body starts when the
// task is awaited (or spawned). This is the C++ form of Rust's
//
//     let op = say_world();   // nothing printed
//     println!("hello");
//     op.await;               // prints "world"
//
// rill::task is [[nodiscard]], so the classic mistake
//
//     say_world(runs);   // clang: "ignoring return value of function declared with
//                        // 'nodiscard' attribute" [-Wunused-result]
//
// is a compiler warning: the task is destroyed at the end of the statement and its
// body never runs.
#pragma once

#include <cstdio>

#include <rill/rill.hpp>

namespace chapters::hello_lazy {

// `runs` counts how often the body executed. It refers to a local of the caller,
// which awaits this task inside that local's lifetime.
inline rill::task<void> say_world(int& runs) {
    ++runs;
    std::printf("world\n");
    co_return;
}

inline rill::task<void> async_main() {
    int runs = 0;

    rill::task<void> op = say_world(runs);  // the frame exists, the body has not run
    std::printf("hello\n");
    std::printf("say_world body runs before co_await: %d\n", runs);

    co_await op;  // now the body runs, on this task, and "world" is printed
    std::printf("say_world body runs after co_await: %d\n", runs);

    {
        // A task that is never awaited is destroyed without ever running its body.
        rill::task<void> dropped = say_world(runs);
    }
    std::printf("say_world body runs after dropping an unawaited task: %d\n", runs);
}

/// Runs the chapter on a default (multi-thread) runtime; returns the exit code.
inline int run() { return rill::run(async_main()); }

}  // namespace chapters::hello_lazy
