// A cache read by many tasks at once and filled by a writer (rill::sync::rwlock).
// The chapter itself is in chapters/rwlock_cache.hpp, shared with the tour example.
#include "chapters/rwlock_cache.hpp"

int main() { return chapters::rwlock_cache::run(); }
