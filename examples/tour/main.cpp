// The tour of rill (`make demo`): every chapter of the guide, one after another.
// Each chapter lives in chapters/<name>.hpp and is also an example of its own
// (build/<preset>/examples/<name>). Order: tasks, time, composition, streams, sync,
// channels, files, networking, shutdown.
#include <cstdio>

#include "chapters/bounded_concurrency.hpp"
#include "chapters/bounded_vs_unbounded.hpp"
#include "chapters/countdown.hpp"
#include "chapters/current_thread.hpp"
#include "chapters/delay_future.hpp"
#include "chapters/echo.hpp"
#include "chapters/framed_lines.hpp"
#include "chapters/fs_config.hpp"
#include "chapters/future_size.hpp"
#include "chapters/graceful_shutdown.hpp"
#include "chapters/hash_file.hpp"
#include "chapters/hello_lazy.hpp"
#include "chapters/interval.hpp"
#include "chapters/join_all_calls.hpp"
#include "chapters/join_fetch.hpp"
#include "chapters/mpsc_two_producers.hpp"
#include "chapters/mutex_counter.hpp"
#include "chapters/mutex_pitfall.hpp"
#include "chapters/oneshot_request_response.hpp"
#include "chapters/process_batch.hpp"
#include "chapters/runtime_builder.hpp"
#include "chapters/rwlock_cache.hpp"
#include "chapters/select_replica.hpp"
#include "chapters/select_reuse.hpp"
#include "chapters/spawn_await.hpp"
#include "chapters/spawn_blocking.hpp"
#include "chapters/spawn_compute.hpp"
#include "chapters/stream_combinators.hpp"
#include "chapters/stream_interval.hpp"
#include "chapters/stream_iter.hpp"
#include "chapters/task_errors.hpp"
#include "chapters/timeouts.hpp"
#include "chapters/tinyhttp.hpp"
#include "chapters/unordered_results.hpp"

namespace {

struct chapter {
    const char* title;
    int (*run)();
};

const chapter chapters_in_order[] = {
    {"1. futures are lazy", [] { return chapters::hello_lazy::run(); }},
    {"2. a hand-written future: Delay", [] { return chapters::delay_future::run(); }},
    {"3. spawning tasks", [] { return chapters::spawn_await::run(); }},
    {"4. spawn and await a computation", [] { return chapters::spawn_compute::run(); }},
    {"5. errors in tasks", [] { return chapters::task_errors::run(); }},
    {"6. blocking work: spawn_blocking", [] { return chapters::spawn_blocking::run(); }},
    {"7. configuring the runtime", [] { return chapters::runtime_builder::run(); }},
    {"8. the current_thread runtime", [] { return chapters::current_thread::run(); }},
    {"9. the size of a future", [] { return chapters::future_size::run(); }},
    {"10. time: sleep, timeout, Delay on the timer wheel", [] { return chapters::timeouts::run(); }},
    {"11. an interval", [] { return chapters::interval::run(); }},
    {"12. join: two fetches at once", [] { return chapters::join_fetch::run(); }},
    {"13. select: primary, replica, deadline", [] { return chapters::select_replica::run(); }},
    {"14. join_all", [] { return chapters::join_all_calls::run(); }},
    {"15. futures_unordered: results as they finish", [] { return chapters::unordered_results::run(); }},
    {"16. a future reused across selects", [] { return chapters::select_reuse::run(); }},
    {"17. process_batch with a join_set", [] { return chapters::process_batch::run(); }},
    {"18. bounded concurrency (pitfall 4)", [] { return chapters::bounded_concurrency::run(); }},
    {"19. streams: iter", [] { return chapters::stream_iter::run(); }},
    {"20. an interval stream", [] { return chapters::stream_interval::run(); }},
    {"21. an async generator: countdown", [] { return chapters::countdown::run(); }},
    {"22. stream combinators", [] { return chapters::stream_combinators::run(); }},
    {"23. shared state: rill::sync::mutex", [] { return chapters::mutex_counter::run(); }},
    {"24. a cache behind rill::sync::rwlock", [] { return chapters::rwlock_cache::run(); }},
    {"25. std::mutex across co_await, and the fix", [] { return chapters::mutex_pitfall::run(); }},
    {"26. channels: two mpsc producers, one consumer", [] { return chapters::mpsc_two_producers::run(); }},
    {"27. oneshot request-response", [] { return chapters::oneshot_request_response::run(); }},
    {"28. bounded vs unbounded channels", [] { return chapters::bounded_vs_unbounded::run(); }},
    {"29. reading a config file: rill::fs, not a blocking read (pitfall 1)", [] { return chapters::fs_config::run(); }},
    {"30. a large file on the blocking pool", [] { return chapters::hash_file::run(); }},
    {"31. a TCP echo server and client", [] { return chapters::echo::run(); }},
    {"32. a minimal HTTP/1.1 server", [] { return chapters::tinyhttp::run(); }},
    {"33. a line protocol with framed and lines_codec", [] { return chapters::framed_lines::run(); }},
    {"34. graceful shutdown: cancellation_token and ctrl_c", [] { return chapters::graceful_shutdown::run(); }},
};

}  // namespace

int main() {
    for (const chapter& c : chapters_in_order) {
        std::printf("== %s ==\n", c.title);
        std::fflush(stdout);
        if (const int rc = c.run(); rc != 0) {
            std::printf("chapter \"%s\" failed with exit code %d\n", c.title, rc);
            return rc;
        }
        std::printf("\n");
    }
    std::printf("tour complete: %zu chapters\n", std::size(chapters_in_order));
    return 0;
}
