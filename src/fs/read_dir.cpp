// rill::fs::read_dir: batches of readdir(3) on the blocking pool. The DIR* lives in a
// shared dir_state that each job holds a reference on; the stream keeps the handle of
// the job in flight, so a cancelled next_entry loses no batch.
#include "rill/fs/read_dir.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "fs/sys.hpp"
#include "rill/runtime/spawn.hpp"

namespace rill::fs {

namespace detail {

struct dir_state {
    DIR* dir;
    std::filesystem::path path;
    dir_state(DIR* d, std::filesystem::path p) noexcept : dir(d), path(std::move(p)) {}
    dir_state(const dir_state&) = delete;
    ~dir_state() {
        if (dir) ::closedir(dir);
    }
};

namespace {

constexpr std::size_t batch_size = 32;

file_metadata::kind kind_of(const dirent* e, const std::filesystem::path& full) {
    switch (e->d_type) {
        case DT_REG: return file_metadata::kind::file;
        case DT_DIR: return file_metadata::kind::directory;
        case DT_LNK: return file_metadata::kind::symlink;
        case DT_UNKNOWN: {
            struct stat st {};
            if (::lstat(full.c_str(), &st) == 0) return from_stat(st).file_type();
            return file_metadata::kind::other;
        }
        default: return file_metadata::kind::other;
    }
}

dir_batch next_batch(dir_state& st) {
    dir_batch b;
    while (b.entries.size() < batch_size) {
        errno = 0;
        const dirent* e = ::readdir(st.dir);
        if (e == nullptr) {
            if (errno != 0) b.err = errno;
            b.end = true;
            break;
        }
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        std::filesystem::path full = st.path / e->d_name;
        const file_metadata::kind k = kind_of(e, full);
        b.entries.emplace_back(std::move(full), k);
    }
    return b;
}

}  // namespace
}  // namespace detail

read_dir_stream::read_dir_stream(std::shared_ptr<detail::dir_state> st) noexcept : st_(std::move(st)) {}
read_dir_stream::~read_dir_stream() = default;

task<std::optional<dir_entry>> read_dir_stream::next_entry() {
    for (;;) {
        if (!ready_.empty()) {
            dir_entry e = std::move(ready_.front());
            ready_.pop_front();
            co_return e;
        }
        if (end_) co_return std::nullopt;
        if (!pending_) {
            std::shared_ptr<detail::dir_state> st = st_;
            pending_ = rill::spawn_blocking([st] { return detail::next_batch(*st); });
        }
        detail::dir_batch b = co_await *pending_;  // cancelled: the job stays in pending_
        pending_.reset();
        for (dir_entry& e : b.entries) ready_.push_back(std::move(e));
        if (b.end) end_ = true;
        if (b.err != 0) detail::throw_errno(b.err, "read_dir", st_->path);
    }
}

task<read_dir_stream> read_dir(std::filesystem::path path) {
    auto h = rill::spawn_blocking([path] {
        DIR* d = ::opendir(path.c_str());
        if (d == nullptr) detail::throw_errno(errno, "read_dir", path);
        return std::make_shared<detail::dir_state>(d, path);
    });
    std::shared_ptr<detail::dir_state> st = co_await h;
    co_return read_dir_stream(std::move(st));
}

}  // namespace rill::fs
