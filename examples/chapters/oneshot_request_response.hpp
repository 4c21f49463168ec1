// Channels: oneshot for a single answer (Tokio's oneshot).
//
// oneshot::channel<T>() gives a sender for exactly one value and a receiver to await
// it. compute_in_background() starts a computation in its own task and hands back the
// receiver: the caller goes on with other work and awaits the answer when it needs it.
//
// The same pattern gives request-response over an mpsc channel: each command carries a
// oneshot sender (the "responder") on which the task that owns the state answers.
// Awaiting a receiver whose sender was dropped without answering throws
// oneshot::recv_error, so a lost answer is never a silent hang.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <rill/rill.hpp>
#include <rill/sync/mpsc.hpp>

namespace chapters::oneshot_request_response {

namespace mpsc = rill::sync::mpsc;
namespace oneshot = rill::sync::oneshot;

inline rill::task<void> fibonacci(std::uint64_t n, oneshot::sender<std::uint64_t> tx) {
    std::uint64_t a = 0, b = 1;
    for (std::uint64_t i = 0; i < n; ++i) {
        a = std::exchange(b, a + b);
        if (i % 16 == 0) co_await rill::yield_now();
    }
    (void)tx.send(a);  // fails only if nobody waits for the answer any more
}

/// Starts the computation and returns where its answer will arrive.
inline oneshot::receiver<std::uint64_t> compute_in_background(std::uint64_t n) {
    auto [tx, rx] = oneshot::channel<std::uint64_t>();
    rill::spawn(fibonacci(n, std::move(tx))).detach();
    return std::move(rx);
}

// Request-response: a task owns a map; others ask it through commands.
struct command {
    enum kind_t { get, set } kind;
    std::string key;
    std::string value;                                       // for set
    oneshot::sender<std::optional<std::string>> responder;  // the previous / current value
};

inline rill::task<void> manager(mpsc::receiver<command> rx) {
    std::map<std::string, std::string> store;
    while (std::optional<command> cmd = co_await rx.recv()) {
        std::optional<std::string> answer;
        if (auto it = store.find(cmd->key); it != store.end()) answer = it->second;
        if (cmd->kind == command::set) store[cmd->key] = cmd->value;
        (void)cmd->responder.send(std::move(answer));
    }
}

inline rill::task<std::optional<std::string>> ask(mpsc::sender<command>& tx, command::kind_t kind, std::string key,
                                                  std::string value) {
    auto [resp_tx, resp_rx] = oneshot::channel<std::optional<std::string>>();
    command cmd{kind, std::move(key), std::move(value), std::move(resp_tx)};
    if (!co_await tx.send(std::move(cmd))) throw rill::error("the manager is gone");
    co_return co_await std::move(resp_rx);
}

inline rill::task<void> async_main() {
    oneshot::receiver<std::uint64_t> answer = compute_in_background(90);
    std::printf("computing fib(90) in the background; doing other work meanwhile\n");
    const std::uint64_t fib = co_await std::move(answer);
    std::printf("fib(90) = %llu\n", static_cast<unsigned long long>(fib));

    auto [tx, rx] = mpsc::channel<command>(32);
    rill::join_handle<void> mgr = rill::spawn(manager(std::move(rx)));
    std::optional<std::string> old = co_await ask(tx, command::set, "hello", "world");
    std::printf("SET hello: previous value %s\n", old ? old->c_str() : "(none)");
    std::optional<std::string> now = co_await ask(tx, command::get, "hello", "");
    std::printf("GET hello: %s\n", now ? now->c_str() : "(none)");
    { auto gone = std::move(tx); }  // the manager's loop ends
    co_await mgr;

    // A sender dropped without answering: the receiver fails instead of hanging.
    auto [lost_tx, lost_rx] = oneshot::channel<int>();
    { auto gone = std::move(lost_tx); }
    try {
        (void)co_await std::move(lost_rx);
    } catch (const oneshot::recv_error&) {
        std::printf("the responder was dropped: oneshot::recv_error\n");
    }
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::oneshot_request_response
