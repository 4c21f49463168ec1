// rill_bench: rill's side of the runtime benchmarks in ../../shared/anchors.
//
//     rill_bench NAME [N]
//
// Prints exactly one line on stdout (contract: shared/anchors/README.md §1):
//     bench=<name> n=<n> secs=<s> rate=<ops/s> rss_mb=<MB> [bytes_per_task=<B>]
// Diagnostics go to stderr. An unknown NAME, or a benchmark that computes the wrong
// answer, exits non-zero.
//
// Like the Tokio main, the body runs inside a task spawned from the block_on task, so it
// executes on a worker of the default multi-thread runtime. The benchmarks live in the
// other bench/*.cpp files and register themselves (common.hpp says how to add one).
#include "common.hpp"

#include <vector>

namespace rill_bench {
namespace {

std::vector<bench_def>& registry() {
    static std::vector<bench_def> all;
    return all;
}

const bench_def* find_bench(std::string_view name) {
    for (const bench_def& b : registry())
        if (b.name == name) return &b;
    return nullptr;
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: rill_bench <bench> [n]\nbenches (default n):\n");
    for (const bench_def& b : registry()) std::fprintf(stderr, "  %.*s (%zu)\n", int(b.name.size()), b.name.data(), b.default_n);
    std::exit(2);
}

/// N as the Rust program parses it: decimal digits, '_' separators allowed.
std::optional<std::size_t> parse_n(std::string_view s) {
    std::size_t v = 0;
    bool any = false;
    for (char c : s) {
        if (c == '_') continue;
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::size_t>(c - '0');
        any = true;
    }
    return any ? std::optional<std::size_t>(v) : std::nullopt;
}

/// The block_on task: spawns the body so it runs on a worker, as `tokio::spawn(fut).await`.
rill::task<outcome> run_spawned(const bench_def* b, std::size_t n) {
    co_return co_await rill::spawn(b->run(n));
}

}  // namespace

bool register_bench(bench_def def) {
    registry().push_back(def);
    return true;
}

}  // namespace rill_bench

int main(int argc, char** argv) {
    using namespace rill_bench;
    if (argc < 2) usage();
    const bench_def* b = find_bench(argv[1]);
    if (b == nullptr) usage();
    std::size_t n = b->default_n;
    if (argc >= 3) {
        auto parsed = parse_n(argv[2]);
        if (!parsed) usage();
        n = *parsed;
    }

    int rc = 0;
    {
        // Multi-thread scheduler with the default worker count (= CPUs), everything
        // enabled, as the Tokio program builds it.
        std::optional<rill::runtime> rt(rill::builder::new_multi_thread().enable_all().build());
        try {
            const outcome out = rt->block_on(run_spawned(b, n));
            const double hwm_mb = static_cast<double>(proc_status_kb("VmHWM:")) / 1024.0;
            const double rate = out.secs > 0 ? static_cast<double>(out.ops) / out.secs : 0.0;
            char line[512];
            int len = std::snprintf(line, sizeof line, "bench=%.*s n=%llu secs=%.6f rate=%.1f rss_mb=%.1f",
                                    int(b->name.size()), b->name.data(), static_cast<unsigned long long>(out.ops),
                                    out.secs, rate, hwm_mb);
            if (out.bytes_per_task && len > 0 && static_cast<std::size_t>(len) < sizeof line)
                std::snprintf(line + len, sizeof line - static_cast<std::size_t>(len), " bytes_per_task=%.1f",
                              *out.bytes_per_task);
            std::printf("%s\n", line);
            std::fflush(stdout);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rill_bench %s: FAILED: %s\n", argv[1], e.what());
            rc = 1;
        }
        // Tear down (not timed): destroys every task still parked.
        const auto t = clock_type::now();
        rt.reset();
        std::fprintf(stderr, "# %s: runtime drop took %.3fs\n", argv[1],
                     std::chrono::duration<double>(clock_type::now() - t).count());
    }
    return rc;
}
