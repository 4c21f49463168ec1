// The current_thread runtime: every task runs on the thread that calls rill::run.
// The chapter itself is in chapters/current_thread.hpp, shared with the tour example.
#include <thread>

#include "chapters/current_thread.hpp"

// In place of #[tokio::main(flavor = "current_thread")]: main builds the runtime and
// runs the main task on this very thread; its int result is the exit code.
int main() {
    return rill::run(rill::builder::new_current_thread(),
                     chapters::current_thread::async_main(std::this_thread::get_id()));
}
