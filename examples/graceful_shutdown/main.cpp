// Graceful shutdown: waits for Ctrl-C (SIGINT), cancels a token, joins every worker.
//     graceful_shutdown              wait for a real Ctrl-C
//     graceful_shutdown --simulate   send itself SIGINT after 300 ms
// The chapter itself is in chapters/graceful_shutdown.hpp, shared with the tour example.
#include <cstring>

#include "chapters/graceful_shutdown.hpp"

int main(int argc, char** argv) {
    const bool simulate = argc > 1 && std::strcmp(argv[1], "--simulate") == 0;
    return chapters::graceful_shutdown::run(simulate);
}
