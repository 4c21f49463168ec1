// A hand-written future: a pollable Delay awaited with rill::poll_fn.
// The chapter itself is in chapters/delay_future.hpp, shared with the tour example.
#include "chapters/delay_future.hpp"

int main() { return chapters::delay_future::run(); }
