// rill::future::join_set<T>: a set of spawned tasks, joined in completion order
// (tokio::task::JoinSet).
//
//     rill::future::join_set<int> set;
//     for (auto& item : batch) set.spawn(process(item));
//     while (std::optional<int> r = co_await set.join_next()) total += *r;
//
// spawn(t) spawns t on the current runtime (it runs on any worker, at once) and adds
// it to the set. join_next() waits for the next task to finish and returns its value,
// or std::nullopt when the set is empty; a task that threw rethrows its exception from
// join_next, and a task that was aborted throws rill::join_error (is_cancelled()) —
// either way it has left the set. abort_all() requests cancellation of every task (they
// still come out of join_next, as join_error unless they finished first);
// detach_all() lets them run on without the set; shutdown() aborts all and waits for
// all. Destroying the set aborts every task still in it (structured concurrency).
// size()/len(), empty()/is_empty().
//
// Design: a futures_unordered of join-handle awaits (one branch per task, O(1) per
// completion) plus one abort handle per slot.
//
// Cancel safety: join_next() is cancel-safe: a task that finishes while nobody waits
// stays in the set until a later join_next returns it.
// Resumes on: the awaiting task's worker.
// Thread safety: a join_set belongs to one task; the tasks in it run anywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <utility>
#include <vector>

#include "rill/future/futures_unordered.hpp"
#include "rill/runtime/join_handle.hpp"
#include "rill/runtime/spawn.hpp"
#include "rill/task.hpp"

namespace rill::future {

template <class T>
class join_set {
public:
    using value_type = value_t<T>;

    join_set() : core_(std::make_unique<detail::unordered_core<T>>()) {}
    join_set(join_set&&) noexcept = default;
    join_set& operator=(join_set&& o) noexcept {
        if (this != &o) {
            abort_all();
            core_ = std::move(o.core_);
            aborts_ = std::move(o.aborts_);
        }
        return *this;
    }
    join_set(const join_set&) = delete;
    join_set& operator=(const join_set&) = delete;
    /// Aborts every task still in the set.
    ~join_set() { abort_all(); }

    /// Spawns `t` on the current runtime and adds it to the set; returns its abort handle.
    rill::abort_handle spawn(task<T> t, std::source_location loc = std::source_location::current()) {
        join_handle<T> h = rill::spawn(std::move(t), loc);
        rill::abort_handle ah = h.get_abort_handle();
        std::uint32_t idx = core_->push(std::move(h));
        if (aborts_.size() <= idx) aborts_.resize(idx + 1);
        aborts_[idx] = ah;
        return ah;
    }

    /// The next task to finish: its value (rethrows its exception, or rill::join_error
    /// when it was aborted), or std::nullopt when the set is empty. Cancel safety: safe.
    [[nodiscard]] detail::unordered_next<T, join_set> join_next() noexcept {
        return detail::unordered_next<T, join_set>(this);
    }

    /// Requests cancellation of every task in the set; they stay until joined.
    void abort_all() noexcept {
        for (auto& a : aborts_) a.abort();
    }
    /// Removes every task from the set without cancelling them. A join_next() pending in
    /// another branch of this task (inside a select or join) then returns std::nullopt.
    void detach_all() noexcept {
        core_->clear();  // drops the join handles: the tasks run on, detached
        aborts_.clear();
    }
    /// Aborts every task and waits until all have finished.
    task<void> shutdown() {
        abort_all();
        while (!empty()) {
            try {
                (void)co_await join_next();
            } catch (...) {  // aborted (join_error) or failed: either way it is gone
            }
        }
    }

    std::size_t size() const noexcept { return core_ ? core_->size() : 0; }
    std::size_t len() const noexcept { return size(); }
    bool empty() const noexcept { return size() == 0; }
    bool is_empty() const noexcept { return empty(); }

private:
    friend class detail::unordered_next<T, join_set>;
    detail::unordered_core<T>& core() noexcept { return *core_; }
    std::optional<value_type> finish(std::uint32_t idx) {
        aborts_[idx] = rill::abort_handle();
        return core_->take(idx);
    }

    std::unique_ptr<detail::unordered_core<T>> core_;
    std::vector<rill::abort_handle> aborts_;
};

}  // namespace rill::future
