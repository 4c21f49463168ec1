// filter even / square / take 3 / collect.
// The chapter itself is in chapters/stream_combinators.hpp, shared with the tour example.
#include "chapters/stream_combinators.hpp"

int main() { return chapters::stream_combinators::run(); }
