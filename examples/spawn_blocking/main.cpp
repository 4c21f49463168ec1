// Blocking work on the blocking pool with rill::spawn_blocking.
// The chapter itself is in chapters/spawn_blocking.hpp, shared with the tour example.
#include "chapters/spawn_blocking.hpp"

int main() { return chapters::spawn_blocking::run(); }
