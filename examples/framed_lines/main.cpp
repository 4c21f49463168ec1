// A line protocol over rill::io::framed with lines_codec (max line length enforced).
// The chapter itself is in chapters/framed_lines.hpp.
#include "chapters/framed_lines.hpp"

int main() { return chapters::framed_lines::run(); }
