#include "chapters/interval.hpp"

int main() { return chapters::interval::run(); }
