#include "chapters/timeouts.hpp"

int main() { return chapters::timeouts::run(); }
