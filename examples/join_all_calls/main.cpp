// join_all over three delayed calls.
// The chapter itself is in chapters/join_all_calls.hpp, shared with the tour example.
#include "chapters/join_all_calls.hpp"

int main() { return chapters::join_all_calls::run(); }
