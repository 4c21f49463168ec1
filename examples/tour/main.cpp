// The tour of rill (`make demo`): every chapter of the guide, one after another.
// Each chapter lives in chapters/<name>.hpp and is also an example of its own
// (build/<preset>/examples/<name>).
#include <cstdio>

#include "chapters/current_thread.hpp"
#include "chapters/delay_future.hpp"
#include "chapters/future_size.hpp"
#include "chapters/hello_lazy.hpp"
#include "chapters/interval.hpp"
#include "chapters/runtime_builder.hpp"
#include "chapters/spawn_await.hpp"
#include "chapters/spawn_blocking.hpp"
#include "chapters/task_errors.hpp"
#include "chapters/timeouts.hpp"

namespace {

struct chapter {
    const char* title;
    int (*run)();
};

constexpr chapter chapters_in_order[] = {
    {"1. futures are lazy", chapters::hello_lazy::run},
    {"2. a hand-written future: Delay", chapters::delay_future::run},
    {"3. spawning tasks", chapters::spawn_await::run},
    {"4. errors in tasks", chapters::task_errors::run},
    {"5. blocking work: spawn_blocking", chapters::spawn_blocking::run},
    {"6. configuring the runtime", chapters::runtime_builder::run},
    {"7. the current_thread runtime", chapters::current_thread::run},
    {"8. the size of a future", chapters::future_size::run},
    {"9. time: sleep, timeout, Delay on the timer wheel", chapters::timeouts::run},
    {"10. an interval", chapters::interval::run},
};

}  // namespace

int main() {
    for (const chapter& c : chapters_in_order) {
        std::printf("== %s ==\n", c.title);
        if (const int rc = c.run(); rc != 0) {
            std::printf("chapter \"%s\" failed with exit code %d\n", c.title, rc);
            return rc;
        }
        std::printf("\n");
    }
    std::printf("tour complete: %zu chapters\n", std::size(chapters_in_order));
    return 0;
}
