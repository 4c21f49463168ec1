// rill::fs whole-file and directory operations: one spawn_blocking job each. Every job
// captures its paths and data by value (the cancel-safety rule of fs, see ops.hpp).
#include "rill/fs/ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/sys.hpp"
#include "rill/fs/metadata.hpp"
#include "rill/runtime/spawn.hpp"

namespace rill::fs {

namespace {

namespace fsys = std::filesystem;

class fd_guard {
public:
    explicit fd_guard(int fd) noexcept : fd_(fd) {}
    fd_guard(const fd_guard&) = delete;
    ~fd_guard() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

template <class Out>
Out blocking_read_all(const fsys::path& p, const char* op) {
    fd_guard fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) detail::throw_errno(errno, op, p);
    struct stat st {};
    Out out;
    if (::fstat(fd.get(), &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
    char chunk[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            detail::throw_errno(errno, op, p);
        }
        if (n == 0) break;
        const auto* b = reinterpret_cast<const typename Out::value_type*>(chunk);
        out.insert(out.end(), b, b + n);
    }
    return out;
}

void blocking_write_all(const fsys::path& p, const std::vector<std::byte>& data) {
    fd_guard fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (fd.get() < 0) detail::throw_errno(errno, "write", p);
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            detail::throw_errno(errno, "write", p);
        }
        done += static_cast<std::size_t>(n);
    }
}

void check(const std::error_code& ec, const char* op, const fsys::path& p) {
    if (ec) throw std::system_error(ec, std::string("rill::fs::") + op + " '" + p.string() + "'");
}
void check2(const std::error_code& ec, const char* op, const fsys::path& a, const fsys::path& b) {
    if (ec) throw std::system_error(ec, std::string("rill::fs::") + op + " '" + a.string() + "' -> '" + b.string() + "'");
}

file_metadata blocking_stat(const fsys::path& p, bool follow) {
    struct stat st {};
    const int rc = follow ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st);
    if (rc != 0) detail::throw_errno(errno, follow ? "metadata" : "symlink_metadata", p);
    return detail::from_stat(st);
}

}  // namespace

namespace detail {
task<void> write_owned(fsys::path path, std::vector<std::byte> data);
}  // namespace detail

task<std::vector<std::byte>> read(fsys::path path) {
    auto h = rill::spawn_blocking([path] { return blocking_read_all<std::vector<std::byte>>(path, "read"); });
    co_return co_await h;
}

task<std::string> read_to_string(fsys::path path) {
    auto h = rill::spawn_blocking([path] { return blocking_read_all<std::string>(path, "read_to_string"); });
    co_return co_await h;
}

task<void> write(fsys::path path, std::span<const std::byte> data) {
    // Copied now, while the caller's bytes are certainly alive; the job owns the copy.
    std::vector<std::byte> owned(data.begin(), data.end());
    return detail::write_owned(std::move(path), std::move(owned));
}

task<void> write(fsys::path path, std::string_view data) {
    const auto* b = reinterpret_cast<const std::byte*>(data.data());
    return detail::write_owned(std::move(path), std::vector<std::byte>(b, b + data.size()));
}

task<void> detail::write_owned(fsys::path path, std::vector<std::byte> data) {
    auto h = rill::spawn_blocking([path, data = std::move(data)] { blocking_write_all(path, data); });
    co_await h;
}

task<void> create_dir(fsys::path path) {
    auto h = rill::spawn_blocking([path] {
        if (::mkdir(path.c_str(), 0777) != 0) detail::throw_errno(errno, "create_dir", path);
    });
    co_await h;
}

task<void> create_dir_all(fsys::path path) {
    auto h = rill::spawn_blocking([path] {
        std::error_code ec;
        fsys::create_directories(path, ec);
        check(ec, "create_dir_all", path);
    });
    co_await h;
}

task<void> remove_file(fsys::path path) {
    auto h = rill::spawn_blocking([path] {
        if (::unlink(path.c_str()) != 0) detail::throw_errno(errno, "remove_file", path);
    });
    co_await h;
}

task<void> remove_dir(fsys::path path) {
    auto h = rill::spawn_blocking([path] {
        if (::rmdir(path.c_str()) != 0) detail::throw_errno(errno, "remove_dir", path);
    });
    co_await h;
}

task<void> remove_dir_all(fsys::path path) {
    auto h = rill::spawn_blocking([path] {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) detail::throw_errno(errno, "remove_dir_all", path);
        if (!S_ISDIR(st.st_mode)) detail::throw_errno(ENOTDIR, "remove_dir_all", path);
        std::error_code ec;
        fsys::remove_all(path, ec);
        check(ec, "remove_dir_all", path);
    });
    co_await h;
}

task<void> rename(fsys::path from, fsys::path to) {
    auto h = rill::spawn_blocking([from, to] {
        if (::rename(from.c_str(), to.c_str()) != 0) detail::throw_errno2(errno, "rename", from, to);
    });
    co_await h;
}

task<std::uint64_t> copy(fsys::path from, fsys::path to) {
    auto h = rill::spawn_blocking([from, to] {
        std::error_code ec;
        fsys::copy_file(from, to, fsys::copy_options::overwrite_existing, ec);
        check2(ec, "copy", from, to);
        const std::uintmax_t n = fsys::file_size(to, ec);
        check(ec, "copy", to);
        return static_cast<std::uint64_t>(n);
    });
    co_return co_await h;
}

task<bool> try_exists(fsys::path path) {
    auto h = rill::spawn_blocking([path] {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) return true;
        if (errno == ENOENT || errno == ENOTDIR) return false;
        detail::throw_errno(errno, "try_exists", path);
    });
    co_return co_await h;
}

task<file_metadata> metadata(fsys::path path) {
    auto h = rill::spawn_blocking([path] { return blocking_stat(path, true); });
    co_return co_await h;
}

task<file_metadata> symlink_metadata(fsys::path path) {
    auto h = rill::spawn_blocking([path] { return blocking_stat(path, false); });
    co_return co_await h;
}

}  // namespace rill::fs
