// futures_unordered: results in the order they finish.
// The chapter itself is in chapters/unordered_results.hpp, shared with the tour example.
#include "chapters/unordered_results.hpp"

int main() { return chapters::unordered_results::run(); }
