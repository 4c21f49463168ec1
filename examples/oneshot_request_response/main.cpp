// oneshot: compute_in_background, and request-response with a responder per command.
// The chapter itself is in chapters/oneshot_request_response.hpp, shared with the tour.
#include "chapters/oneshot_request_response.hpp"

int main() { return chapters::oneshot_request_response::run(); }
