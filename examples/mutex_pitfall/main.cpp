// Holding a std::mutex across co_await, and the two ways to do it right.
// The chapter itself is in chapters/mutex_pitfall.hpp, shared with the tour example.
#include "chapters/mutex_pitfall.hpp"

int main() { return chapters::mutex_pitfall::run(); }
