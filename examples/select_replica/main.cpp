// select: primary versus replica versus a 5 s deadline.
// The chapter itself is in chapters/select_replica.hpp, shared with the tour example.
#include "chapters/select_replica.hpp"

int main() { return chapters::select_replica::run(); }
