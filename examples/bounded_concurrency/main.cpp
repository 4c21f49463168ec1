// Pitfall 4 fixed: a million items, at most 100 in flight.
// The chapter itself is in chapters/bounded_concurrency.hpp, shared with the tour example.
#include "chapters/bounded_concurrency.hpp"

int main() { return chapters::bounded_concurrency::run(); }
