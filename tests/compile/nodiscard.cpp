// Compile check (see tests/CMakeLists.txt): forgetting to await a task, a join handle or
// a notified() is a compiler diagnostic ("futures are lazy" — nothing would run).
// RILL_CASE_ok must compile with -Werror; every other case must fail to.
#include "rill/rill.hpp"

rill::task<int> forty_two() { co_return 42; }

rill::task<int> user() {
    rill::sync::notify n;
#if defined(RILL_CASE_task)
    forty_two();  // a task created and dropped: never runs
#elif defined(RILL_CASE_join_handle)
    rill::spawn(forty_two());  // the handle is dropped on the floor
#elif defined(RILL_CASE_notified)
    n.notified();  // a waiter created and dropped: waits for nothing
#else
    auto h = rill::spawn(forty_two());
    n.notify_one();
    co_await n.notified();
    h.detach();  // the explicit way to let a task run on its own
    co_return co_await forty_two();
#endif
    co_return 0;
}

int main() { return rill::run(user()); }
