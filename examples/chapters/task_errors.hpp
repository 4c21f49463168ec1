// Chapter 4: errors in tasks.
//
// In Rust, awaiting a JoinHandle gives a nested result: Err(JoinError) when the task
// panicked or was cancelled, Ok(the task's own Result) otherwise. In rill both layers
// are exceptions that travel through co_await:
//   - an exception escaping a spawned task is stored, and awaiting the task's
//     join_handle rethrows that same exception;
//   - a task that was cancelled (aborted, or destroyed by runtime shutdown) has no
//     value, so awaiting it throws rill::join_error (is_cancelled() is true).
// Nobody awaits a detached task, so its exception goes to the runtime's
// unhandled-exception hook (builder::on_unhandled_exception; default: a line on
// stderr). An exception escaping the main task of rill::run is printed to stderr and
// turns into exit code 1.
#pragma once

#include <cstdio>
#include <exception>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

#include <rill/rill.hpp>

namespace chapters::task_errors {

inline rill::task<int> parse_port(std::string text) {
    // (A parameter taken by value: the task may outlive the caller's temporaries.)
    const int port = std::stoi(text);
    if (port <= 0 || port > 65535) throw std::out_of_range("port out of range: " + text);
    co_return port;
}

inline rill::task<void> fail_in_background() {
    throw std::runtime_error("disk on fire");
    co_return;
}

// What the unhandled-exception hook saw; written on a worker, read after `reported`.
struct hook_state {
    rill::sync::notify reported;
    std::string message;
    std::string spawned_in;
};

inline std::string file_name_of(const std::source_location& loc) {
    std::string_view path = loc.file_name();
    return std::string(path.substr(path.find_last_of('/') + 1));
}

inline rill::task<void> async_main(hook_state& hook) {
    // 1. The happy path: the task's value.
    const int port = co_await rill::spawn(parse_port("8080"));
    std::printf("parsed port %d\n", port);

    // 2. The task throws: awaiting its handle rethrows the very same exception.
    rill::join_handle<int> bad = rill::spawn(parse_port("99999"));
    try {
        co_await bad;
    } catch (const std::out_of_range& e) {
        std::printf("the task threw std::out_of_range: %s\n", e.what());
    }

    // 3. A detached task that throws: nobody can catch it, the hook reports it.
    rill::spawn(fail_in_background()).detach();
    co_await hook.reported.notified();
    std::printf("the hook reported: %s (task spawned in %s)\n", hook.message.c_str(),
                hook.spawned_in.c_str());
}

inline rill::task<int> failing_main() {
    throw std::runtime_error("could not bind the listening socket");
    co_return 0;
}

inline int run() {
    hook_state hook;  // outlives the runtime built below
    auto builder = rill::builder::new_multi_thread();
    builder.enable_all().on_unhandled_exception([&hook](const rill::task_failure& f) {
        try {
            std::rethrow_exception(f.exception);
        } catch (const std::exception& e) {
            hook.message = e.what();
        }
        hook.spawned_in = file_name_of(f.spawned_at);
        hook.reported.notify_one();
    });
    if (int rc = rill::run(builder, async_main(hook)); rc != 0) return rc;

    // 4. The exception escapes the main task: rill::run prints it on stderr and
    //    returns 1, the process's exit code in `return rill::run(...)`.
    std::printf("running a main task that throws (rill::run reports it on stderr)\n");
    const int rc = rill::run(failing_main());
    std::printf("rill::run(failing_main()) returned %d\n", rc);
    return rc == 1 ? 0 : 1;
}

}  // namespace chapters::task_errors
