// Reading a config file with rill::fs instead of a blocking read (the guide's pitfall 1).
// The chapter itself is in chapters/fs_config.hpp.
#include "chapters/fs_config.hpp"

int main() { return chapters::fs_config::run(); }
