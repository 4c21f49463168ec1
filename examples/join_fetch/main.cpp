// join: two fetches run concurrently inside one task.
// The chapter itself is in chapters/join_fetch.hpp, shared with the tour example.
#include "chapters/join_fetch.hpp"

int main() { return chapters::join_fetch::run(); }
