// Private helpers of rill::fs: errno errors with paths, stat conversion.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "rill/fs/metadata.hpp"

namespace rill::fs::detail {

[[noreturn]] inline void throw_errno(int err, const char* op, const std::filesystem::path& p) {
    throw std::system_error(err, std::generic_category(), std::string("rill::fs::") + op + " '" + p.string() + "'");
}

[[noreturn]] inline void throw_errno2(int err, const char* op, const std::filesystem::path& a,
                                      const std::filesystem::path& b) {
    throw std::system_error(err, std::generic_category(),
                            std::string("rill::fs::") + op + " '" + a.string() + "' -> '" + b.string() + "'");
}

inline file_metadata from_stat(const struct stat& st) noexcept {
    file_metadata::kind k = file_metadata::kind::other;
    if (S_ISREG(st.st_mode)) k = file_metadata::kind::file;
    else if (S_ISDIR(st.st_mode)) k = file_metadata::kind::directory;
    else if (S_ISLNK(st.st_mode)) k = file_metadata::kind::symlink;
    const auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    const auto modified = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
    return file_metadata(static_cast<std::uint64_t>(st.st_size), k, modified, static_cast<unsigned>(st.st_mode & 07777));
}

}  // namespace rill::fs::detail
