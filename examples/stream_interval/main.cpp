// An interval stream that stops after 5 ticks.
// The chapter itself is in chapters/stream_interval.hpp, shared with the tour example.
#include "chapters/stream_interval.hpp"

int main() { return chapters::stream_interval::run(); }
