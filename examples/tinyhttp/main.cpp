// tinyhttp: the plaintext HTTP/1.1 benchmark server (see chapters/tinyhttp.hpp).
//
//     tinyhttp --port 8080 --threads 1     # serve 127.0.0.1:8080 until SIGTERM
//     tinyhttp                             # the demo: a request pair in one process
//
// --threads 1 runs the current_thread runtime (one thread does everything, like the
// bare epoll loop); more threads run the multi-thread runtime with that many workers.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "chapters/tinyhttp.hpp"

namespace {
rill::task<int> serve_main(int port) {
    rill::net::tcp_listener l =
        rill::net::tcp_listener::bind(rill::net::socket_addr("127.0.0.1", static_cast<std::uint16_t>(port)),
                                      {.reuse_address = true, .reuse_port = false, .backlog = 4096});
    std::fprintf(stderr, "tinyhttp: listening on %s\n", l.local_addr().to_string().c_str());
    co_await chapters::tinyhttp::serve(l);
    co_return 0;
}
}  // namespace

int main(int argc, char** argv) {
    int port = -1;
    long threads = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--port" || a == "--threads") && i + 1 < argc) {
            char* end = nullptr;
            const long v = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < 0 || v > 65535 || (a == "--threads" && v == 0)) {
                std::fprintf(stderr, "tinyhttp: bad value for %s: %s\n", a.c_str(), argv[i]);
                return 2;
            }
            if (a == "--port") {
                port = static_cast<int>(v);
            } else {
                threads = v;
            }
        } else {
            std::fprintf(stderr, "usage: tinyhttp [--port N] [--threads N]\n");
            return 2;
        }
    }
    if (port < 0) return chapters::tinyhttp::run();
    if (threads == 1) return rill::run(rill::builder::new_current_thread().enable_all(), serve_main(port));
    auto b = rill::builder::new_multi_thread();
    b.worker_threads(static_cast<std::size_t>(threads)).enable_all();
    return rill::run(b, serve_main(port));
}
