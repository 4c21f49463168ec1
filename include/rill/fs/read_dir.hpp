// rill::fs::read_dir: the entries of a directory, read on the blocking pool.
//
//     rill::fs::read_dir_stream dir = co_await rill::fs::read_dir("logs");
//     while (std::optional<rill::fs::dir_entry> e = co_await dir.next_entry())
//         std::printf("%s\n", e->file_name().c_str());
//
// Entries come in no particular order, without "." and "..". Entries are fetched in
// batches (one blocking job per 32 entries), so iterating a large directory costs few
// thread hops. Errors: std::system_error with errno and the directory's path.
//
// Cancel safety: next_entry is cancel-safe: a batch being fetched when the await was
// destroyed is kept (its job handle stays in the stream) and delivered by the next call;
// no entry is skipped. The job owns the directory handle (shared), never the stream.
// Resumes on: the awaiting task's worker.
// Thread safety: one task at a time per stream.
#pragma once

#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rill/fs/metadata.hpp"
#include "rill/runtime/join_handle.hpp"
#include "rill/task.hpp"

namespace rill::fs {

/// One directory entry.
class dir_entry {
public:
    dir_entry(std::filesystem::path path, file_metadata::kind k) : path_(std::move(path)), kind_(k) {}
    /// The directory's path joined with the entry's name.
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The bare name of the entry.
    std::string file_name() const { return path_.filename().string(); }
    /// The entry's type, as the directory reports it (a symlink is not followed).
    file_metadata::kind file_type() const noexcept { return kind_; }
    bool is_file() const noexcept { return kind_ == file_metadata::kind::file; }
    bool is_dir() const noexcept { return kind_ == file_metadata::kind::directory; }
    bool is_symlink() const noexcept { return kind_ == file_metadata::kind::symlink; }
    /// metadata(path()) on the blocking pool.
    task<file_metadata> metadata() const { return fs::metadata(path_); }

private:
    std::filesystem::path path_;
    file_metadata::kind kind_;
};

namespace detail {
struct dir_state;
struct dir_batch {
    std::vector<dir_entry> entries;
    bool end = false;
    int err = 0;
};
}  // namespace detail

/// An open directory being iterated.
class read_dir_stream {
public:
    read_dir_stream(read_dir_stream&&) noexcept = default;
    read_dir_stream& operator=(read_dir_stream&&) noexcept = default;
    ~read_dir_stream();

    /// The next entry; nullopt once all were returned.
    task<std::optional<dir_entry>> next_entry();

private:
    friend task<read_dir_stream> read_dir(std::filesystem::path path);
    explicit read_dir_stream(std::shared_ptr<detail::dir_state> st) noexcept;

    std::shared_ptr<detail::dir_state> st_;
    std::deque<dir_entry> ready_;
    std::optional<join_handle<detail::dir_batch>> pending_;
    bool end_ = false;
};

/// Opens `path` for iteration.
task<read_dir_stream> read_dir(std::filesystem::path path);

}  // namespace rill::fs
