// Built against an installed rill by tests/install_test.sh.
#include <rill/rill.hpp>

rill::task<int> answer() { co_return 42; }

int main() { return rill::block_on(answer()) == 42 ? 0 : 1; }
