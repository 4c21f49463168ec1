// Errors in tasks: rethrown by the join handle, or reported by the runtime's hook.
// The chapter itself is in chapters/task_errors.hpp, shared with the tour example.
#include "chapters/task_errors.hpp"

int main() { return chapters::task_errors::run(); }
