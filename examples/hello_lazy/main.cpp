// Futures are lazy: calling a coroutine runs nothing until it is awaited.
// The chapter itself is in chapters/hello_lazy.hpp, shared with the tour example.
#include "chapters/hello_lazy.hpp"

int main() { return chapters::hello_lazy::run(); }
