// Bounded vs unbounded channels: backpressure made visible.
// The chapter itself is in chapters/bounded_vs_unbounded.hpp, shared with the tour.
#include "chapters/bounded_vs_unbounded.hpp"

int main() { return chapters::bounded_vs_unbounded::run(); }
