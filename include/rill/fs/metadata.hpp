// rill::fs::file_metadata and rill::fs::metadata: what stat(2) says about a path.
//
//     rill::fs::file_metadata m = co_await rill::fs::metadata("config.toml");
//     if (m.is_file()) std::printf("%llu bytes\n", (unsigned long long)m.size());
//
// metadata(path) follows symlinks; symlink_metadata(path) describes the link itself.
// Both run stat on the blocking pool and throw std::system_error (errno, path in the
// message) when the path cannot be examined.
//
// Cancel safety: cancel-safe (the blocking job owns a copy of the path; its result is
// dropped).
// Resumes on: the awaiting task's worker.
// Thread safety: file_metadata is a plain value.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "rill/task.hpp"

namespace rill::fs {

class file_metadata {
public:
    enum class kind : std::uint8_t { file, directory, symlink, other };

    file_metadata() = default;
    file_metadata(std::uint64_t size, kind k, std::chrono::system_clock::time_point modified, unsigned mode) noexcept
        : size_(size), kind_(k), modified_(modified), mode_(mode) {}

    /// Size in bytes (Tokio's len()).
    std::uint64_t size() const noexcept { return size_; }
    std::uint64_t len() const noexcept { return size_; }
    bool is_file() const noexcept { return kind_ == kind::file; }
    bool is_dir() const noexcept { return kind_ == kind::directory; }
    bool is_symlink() const noexcept { return kind_ == kind::symlink; }
    kind file_type() const noexcept { return kind_; }
    /// Last modification time.
    std::chrono::system_clock::time_point modified() const noexcept { return modified_; }
    /// Permission bits (st_mode & 07777).
    unsigned permissions() const noexcept { return mode_; }

private:
    std::uint64_t size_ = 0;
    kind kind_ = kind::other;
    std::chrono::system_clock::time_point modified_{};
    unsigned mode_ = 0;
};

/// stat(path), following symlinks.
task<file_metadata> metadata(std::filesystem::path path);
/// lstat(path): a symlink is described, not followed.
task<file_metadata> symlink_metadata(std::filesystem::path path);

}  // namespace rill::fs
