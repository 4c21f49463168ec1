// stream::iter printing 1..5.
// The chapter itself is in chapters/stream_iter.hpp, shared with the tour example.
#include "chapters/stream_iter.hpp"

int main() { return chapters::stream_iter::run(); }
