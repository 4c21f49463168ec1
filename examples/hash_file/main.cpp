// Hashing a 50 MB file with rill::spawn_blocking while the runtime stays responsive.
// The chapter itself is in chapters/hash_file.hpp.
#include "chapters/hash_file.hpp"

int main() { return chapters::hash_file::run(); }
