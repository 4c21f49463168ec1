// Configuring a runtime with rill::builder: workers, thread names, thread hooks.
// The chapter itself is in chapters/runtime_builder.hpp, shared with the tour example.
#include "chapters/runtime_builder.hpp"

int main() { return chapters::runtime_builder::run(); }
