// rill::sync::acquire_error: what awaiting an acquire on a closed semaphore throws.
//
// semaphore::close() wakes every queued acquire with this error and makes later ones
// fail at once (Tokio's AcquireError). Permits held when the semaphore closes stay valid.
#pragma once

#include "rill/error.hpp"

namespace rill::sync {

class acquire_error : public rill::error {
public:
    acquire_error() : rill::error("semaphore closed") {}
};

}  // namespace rill::sync
