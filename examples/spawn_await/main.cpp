// Spawning tasks, awaiting their join handles, and aborting one.
// The chapter itself is in chapters/spawn_await.hpp, shared with the tour example.
#include "chapters/spawn_await.hpp"

int main() { return chapters::spawn_await::run(); }
