// echo: a TCP echo server and client in one executable (see chapters/echo.hpp).
//
//     echo server 7000                   # serve 127.0.0.1:7000 until killed
//     echo client 127.0.0.1:7000 a b c   # send a, b, c and print the echoes
//     echo                               # the demo: both in one process
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chapters/echo.hpp"

namespace {
rill::task<int> server_main(std::uint16_t port) {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind(rill::net::socket_addr("127.0.0.1", port));
    std::printf("listening on %s\n", l.local_addr().to_string().c_str());
    std::fflush(stdout);
    co_await chapters::echo::serve(l);
    co_return 0;
}

rill::task<int> client_main(std::string addr, std::vector<std::string> msgs) {
    co_await chapters::echo::client(std::move(addr), std::move(msgs));
    co_return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc == 1) return chapters::echo::run();
    const std::string mode = argv[1];
    auto b = rill::builder::new_multi_thread();
    b.enable_all();
    if (mode == "server" && argc == 3) {
        const long port = std::strtol(argv[2], nullptr, 10);
        if (port < 0 || port > 65535) {
            std::fprintf(stderr, "echo: bad port %s\n", argv[2]);
            return 2;
        }
        return rill::run(b, server_main(static_cast<std::uint16_t>(port)));
    }
    if (mode == "client" && argc >= 3) {
        return rill::run(b, client_main(argv[2], std::vector<std::string>(argv + 3, argv + argc)));
    }
    std::fprintf(stderr, "usage: echo [server PORT | client HOST:PORT MESSAGE...]\n");
    return 2;
}
