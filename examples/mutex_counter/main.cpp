// Ten tasks increment a counter held in rill::sync::mutex<app_state>.
// The chapter itself is in chapters/mutex_counter.hpp, shared with the tour example.
#include "chapters/mutex_counter.hpp"

int main() { return chapters::mutex_counter::run(); }
