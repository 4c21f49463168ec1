// spawn a 1 s computation and await its handle.
// The chapter itself is in chapters/spawn_compute.hpp, shared with the tour example.
#include "chapters/spawn_compute.hpp"

int main() { return chapters::spawn_compute::run(); }
