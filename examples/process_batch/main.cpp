// process_batch with a join_set.
// The chapter itself is in chapters/process_batch.hpp, shared with the tour example.
#include "chapters/process_batch.hpp"

int main() { return chapters::process_batch::run(); }
