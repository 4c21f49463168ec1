// rill::fs: whole-file and directory operations on the blocking pool (Tokio's tokio::fs).
//
//     std::string cfg = co_await rill::fs::read_to_string("app.conf");
//     co_await rill::fs::write("out.txt", rill::io::as_bytes(report));
//     co_await rill::fs::create_dir_all("cache/a/b");
//     co_await rill::fs::rename("out.txt", "cache/a/b/out.txt");
//
// Why the blocking pool: regular files are always "ready" for epoll, so a read on a
// slow disk or network filesystem would block the worker thread and every task on it.
// Each call here is one rill::spawn_blocking job (as Tokio does; io_uring later), so
// a worker never waits on the disk.
//
// Errors: std::system_error with the errno (generic category) and a message naming
// the operation and the path(s): "rill::fs::read '/etc/nope': No such file or directory".
//
// Cancel safety: every function is cancel-safe in the memory sense: the blocking job
// owns copies of its paths and data (write copies the bytes in; read returns a fresh
// vector), so a task destroyed mid-call leaves no job pointing into its frame. The
// operation itself is not undone: a cancelled write or rename may still complete in
// the background.
// Resumes on: the awaiting task's worker.
// Thread safety: any task, any thread of a runtime (they need the current runtime's
// blocking pool; outside a runtime they throw std::logic_error when awaited).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rill/task.hpp"

namespace rill::fs {

/// The whole file.
task<std::vector<std::byte>> read(std::filesystem::path path);
/// The whole file as a string (bytes as chars, no validation).
task<std::string> read_to_string(std::filesystem::path path);
/// Creates or truncates `path` and writes `data` (copied before the call returns).
task<void> write(std::filesystem::path path, std::span<const std::byte> data);
task<void> write(std::filesystem::path path, std::string_view data);
/// Creates one directory (its parent must exist).
task<void> create_dir(std::filesystem::path path);
/// Creates a directory and all missing parents; an existing directory is fine.
task<void> create_dir_all(std::filesystem::path path);
/// Removes a file (or symlink).
task<void> remove_file(std::filesystem::path path);
/// Removes an empty directory.
task<void> remove_dir(std::filesystem::path path);
/// Removes a directory and everything in it.
task<void> remove_dir_all(std::filesystem::path path);
/// Renames (moves) `from` to `to`, replacing `to` if it is a file.
task<void> rename(std::filesystem::path from, std::filesystem::path to);
/// Copies the contents and permissions of file `from` to `to` (replacing it); returns
/// the bytes copied.
task<std::uint64_t> copy(std::filesystem::path from, std::filesystem::path to);
/// True when `path` exists (false for a dangling symlink). Errors other than "not
/// found" throw.
task<bool> try_exists(std::filesystem::path path);

}  // namespace rill::fs
