// An async generator: countdown(5), then Liftoff!
// The chapter itself is in chapters/countdown.hpp, shared with the tour example.
#include "chapters/countdown.hpp"

int main() { return chapters::countdown::run(); }
