// rill's exception types.
//
// rill::error is the base of every exception rill throws that is not an OS error (those
// are std::system_error). join_error is what awaiting a join_handle throws when the
// task did not produce a value because it was cancelled (aborted, or destroyed by
// runtime shutdown). A task that threw has its own exception rethrown instead.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace rill {

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class join_error : public error {
public:
    explicit join_error(std::uint64_t task_id)
        : error("task " + std::to_string(task_id) + " was cancelled"), id_(task_id) {}
    /// True when the task was aborted or destroyed by shutdown before finishing.
    bool is_cancelled() const noexcept { return true; }
    /// The id of the task.
    std::uint64_t id() const noexcept { return id_; }

private:
    std::uint64_t id_;
};

}  // namespace rill
