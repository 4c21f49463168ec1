// A future reused across select iterations (tokio::pin! + &mut fut).
// The chapter itself is in chapters/select_reuse.hpp, shared with the tour example.
#include "chapters/select_reuse.hpp"

int main() { return chapters::select_reuse::run(); }
