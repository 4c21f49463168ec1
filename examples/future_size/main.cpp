// The size of a future: what a coroutine frame holds, and boxing big buffers.
// The chapter itself is in chapters/future_size.hpp, shared with the tour example.
#include "chapters/future_size.hpp"

int main() { return chapters::future_size::run(); }
