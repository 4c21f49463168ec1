// The example of README.md, compiled and run by the tests (keep the two in sync).
#include <rill/rill.hpp>
#include <cstdio>
using namespace std::chrono_literals;

rill::task<int> compute(int x) {
    co_await rill::time::sleep(10ms);               // a timer, not a blocked thread
    co_return x * 2;
}

rill::task<int> async_main() {
    rill::join_handle<int> h = rill::spawn(compute(21));   // runs on some worker
    int fast = co_await rill::time::timeout(1s, compute(1)); // throws time::elapsed if late
    int sum = co_await rill::spawn_blocking([] { return 40 + 2; });  // off the workers
    std::printf("%d %d %d\n", co_await h, fast, sum);      // 42 2 42
    co_return 0;
}

int main() { return rill::run(async_main()); }            // replaces #[tokio::main]
