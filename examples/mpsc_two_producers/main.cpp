// Two mpsc producers and a consumer that ends when every sender is dropped.
// The chapter itself is in chapters/mpsc_two_producers.hpp, shared with the tour example.
#include "chapters/mpsc_two_producers.hpp"

int main() { return chapters::mpsc_two_producers::run(); }
