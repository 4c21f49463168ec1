// rill::fs::file: each operation is a blocking job that owns its buffer and a reference
// on the descriptor (file_inner). See file.hpp for the cancel-safety protocol:
//   1. an operation first finishes the job a cancelled await left in pending_
//      (finish_pending): a read's bytes go to rbuf_, a write's error to deferred_err_;
//   2. reads serve rbuf_ before asking the file again;
//   3. a write (or seek) with unread rbuf_ bytes first moves the descriptor's offset
//      back by that many, so the logical position is what the caller has consumed.
#include "rill/fs/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <coroutine>
#include <cstring>

#include "fs/sys.hpp"
#include "rill/runtime/spawn.hpp"

namespace rill::fs {

namespace detail {

struct file_inner {
    int fd;
    std::filesystem::path path;
    file_inner(int f, std::filesystem::path p) noexcept : fd(f), path(std::move(p)) {}
    file_inner(const file_inner&) = delete;
    ~file_inner() {
        if (fd >= 0) ::close(fd);
    }
};

namespace {

file_op_result do_read(const file_inner& f, std::size_t want) {
    file_op_result r;
    r.data.resize(want);
    for (;;) {
        const ssize_t n = ::read(f.fd, r.data.data(), want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r.err = errno;
            r.data.clear();
        } else {
            r.data.resize(static_cast<std::size_t>(n));
        }
        return r;
    }
}

file_op_result do_write(const file_inner& f, const std::vector<std::byte>& data, std::int64_t back) {
    file_op_result r;
    if (back > 0 && ::lseek(f.fd, -back, SEEK_CUR) < 0) {
        r.err = errno;
        return r;
    }
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            r.err = errno;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    r.value = static_cast<std::int64_t>(done);
    return r;
}

enum which_op { op_sync_all, op_sync_data, op_set_len, op_metadata };

file_op_result do_other(const file_inner& f, int which, std::uint64_t arg) {
    file_op_result r;
    int rc = 0;
    switch (which) {
        case op_sync_all: rc = ::fsync(f.fd); break;
        case op_sync_data: rc = ::fdatasync(f.fd); break;
        case op_set_len: rc = ::ftruncate(f.fd, static_cast<off_t>(arg)); break;
        case op_metadata: {
            struct stat st {};
            rc = ::fstat(f.fd, &st);
            if (rc == 0) r.meta = from_stat(st);
            break;
        }
        default: rc = -1; errno = EINVAL;
    }
    if (rc != 0) r.err = errno;
    return r;
}

const char* op_name(int which) {
    switch (which) {
        case op_sync_all: return "file::sync_all";
        case op_sync_data: return "file::sync_data";
        case op_set_len: return "file::set_len";
        default: return "file::metadata";
    }
}

}  // namespace
}  // namespace detail

file::file(std::shared_ptr<detail::file_inner> inner) noexcept : inner_(std::move(inner)) {}
file::file(file&&) noexcept = default;
file& file::operator=(file&&) noexcept = default;
// A job still running keeps its own reference on file_inner: the descriptor is closed
// when both the file and the job are done. Dropping pending_ detaches the job.
file::~file() = default;

int file::native_handle() const noexcept { return inner_ ? inner_->fd : -1; }
const std::filesystem::path& file::path() const noexcept { return inner_->path; }

void file::take_result(detail::file_op_result& r) noexcept {
    if (pending_kind_ == detail::file_op::read && r.err == 0) {
        rbuf_ = std::move(r.data);
        rpos_ = 0;
    }
    if (r.err != 0 && deferred_err_ == 0) deferred_err_ = r.err;
    pending_kind_ = detail::file_op::none;
}

task<void> file::finish_pending() {
    if (!pending_) co_return;
    detail::file_op_result r = co_await *pending_;  // cancelled here: pending_ stays
    pending_.reset();
    take_result(r);
}

void file::throw_deferred() {
    if (deferred_err_ != 0) {
        const int e = std::exchange(deferred_err_, 0);
        detail::throw_errno(e, "file (earlier cancelled operation)", inner_->path);
    }
}

task<std::size_t> file::read(std::span<std::byte> buf) {
    co_await finish_pending();
    throw_deferred();
    if (rpos_ < rbuf_.size()) {
        const std::size_t n = std::min(buf.size(), rbuf_.size() - rpos_);
        std::memcpy(buf.data(), rbuf_.data() + rpos_, n);
        rpos_ += n;
        if (rpos_ == rbuf_.size()) {
            rbuf_.clear();
            rpos_ = 0;
        }
        co_return n;
    }
    if (buf.empty()) co_return 0;
    const std::size_t want = std::min(buf.size(), max_chunk);
    std::shared_ptr<detail::file_inner> inner = inner_;
    pending_ = rill::spawn_blocking([inner, want] { return detail::do_read(*inner, want); });
    pending_kind_ = detail::file_op::read;
    detail::file_op_result r = co_await *pending_;
    pending_.reset();
    pending_kind_ = detail::file_op::none;
    if (r.err != 0) detail::throw_errno(r.err, "file::read", inner_->path);
    // Back on the task's thread: only now do the bytes touch the caller's buffer.
    if (!r.data.empty()) std::memcpy(buf.data(), r.data.data(), r.data.size());
    co_return r.data.size();
}

task<std::size_t> file::write(std::span<const std::byte> buf) {
    co_await finish_pending();
    throw_deferred();
    if (buf.empty()) co_return 0;
    const auto back = static_cast<std::int64_t>(rbuf_.size() - rpos_);
    rbuf_.clear();
    rpos_ = 0;
    std::vector<std::byte> data(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(std::min(buf.size(), max_chunk)));
    std::shared_ptr<detail::file_inner> inner = inner_;
    pending_ = rill::spawn_blocking(
        [inner, data = std::move(data), back] { return detail::do_write(*inner, data, back); });
    pending_kind_ = detail::file_op::write;
    detail::file_op_result r = co_await *pending_;
    pending_.reset();
    pending_kind_ = detail::file_op::none;
    if (r.err != 0) detail::throw_errno(r.err, "file::write", inner_->path);
    co_return static_cast<std::size_t>(r.value);
}

task<void> file::flush() {
    co_await finish_pending();
    throw_deferred();
}

task<void> file::shutdown() { return flush(); }

task<std::uint64_t> file::seek(std::int64_t offset, seek_from whence) {
    co_await finish_pending();
    throw_deferred();
    int w = SEEK_SET;
    if (whence == seek_from::current) {
        w = SEEK_CUR;
        offset -= static_cast<std::int64_t>(rbuf_.size() - rpos_);  // the caller has not seen those
    } else if (whence == seek_from::end) {
        w = SEEK_END;
    }
    rbuf_.clear();
    rpos_ = 0;
    // lseek only updates the descriptor's offset: it never waits on the device.
    const off_t pos = ::lseek(inner_->fd, static_cast<off_t>(offset), w);
    if (pos < 0) detail::throw_errno(errno, "file::seek", inner_->path);
    co_return static_cast<std::uint64_t>(pos);
}

task<detail::file_op_result> file::run_other(int which, std::uint64_t arg) {
    co_await finish_pending();
    throw_deferred();
    std::shared_ptr<detail::file_inner> inner = inner_;
    pending_ = rill::spawn_blocking([inner, which, arg] { return detail::do_other(*inner, which, arg); });
    pending_kind_ = detail::file_op::other;
    detail::file_op_result r = co_await *pending_;
    pending_.reset();
    pending_kind_ = detail::file_op::none;
    if (r.err != 0) detail::throw_errno(r.err, detail::op_name(which), inner_->path);
    co_return r;
}

task<void> file::sync_all() { co_await run_other(detail::op_sync_all, 0); }
task<void> file::sync_data() { co_await run_other(detail::op_sync_data, 0); }
task<void> file::set_len(std::uint64_t size) {
    // Bytes a cancelled read left in rbuf_ would outlive the truncation (a later read
    // would return data the file no longer has): drop them, moving the descriptor's
    // offset back to what the caller has consumed, as write and seek do.
    co_await finish_pending();
    throw_deferred();
    if (rpos_ < rbuf_.size()) {
        const auto back = static_cast<off_t>(rbuf_.size() - rpos_);
        if (::lseek(inner_->fd, -back, SEEK_CUR) < 0) detail::throw_errno(errno, "file::set_len", inner_->path);
    }
    rbuf_.clear();
    rpos_ = 0;
    co_await run_other(detail::op_set_len, size);
}
task<file_metadata> file::metadata() {
    detail::file_op_result r = co_await run_other(detail::op_metadata, 0);
    co_return r.meta;
}

task<file> open_with_flags(std::filesystem::path path, int flags, unsigned mode) {
    // The job returns an owning file_inner: if this await is cancelled, the descriptor
    // is closed when the unclaimed output is dropped.
    auto h = rill::spawn_blocking([path, flags, mode] {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
        if (fd < 0) detail::throw_errno(errno, "open", path);
        return std::make_shared<detail::file_inner>(fd, path);
    });
    std::shared_ptr<detail::file_inner> inner = co_await h;
    co_return file(std::move(inner));
}

task<file> file::open(std::filesystem::path path) { return open_with_flags(std::move(path), O_RDONLY, 0666); }

task<file> file::create(std::filesystem::path path) {
    return open_with_flags(std::move(path), O_WRONLY | O_CREAT | O_TRUNC, 0666);
}

namespace {
// A task that fails with EINVAL when awaited (open_options errors surface at the await,
// like every other open error).
task<file> fail_open(std::filesystem::path path, const char* why) {
    co_await std::suspend_never{};
    throw std::system_error(EINVAL, std::generic_category(),
                            std::string("rill::fs::open '") + path.string() + "': " + why);
}
}  // namespace

task<file> open_options::open(std::filesystem::path path) const {
    int flags = 0;
    if (!read_ && !write_ && !append_) return fail_open(std::move(path), "no access mode (read, write or append)");
    if (write_ || append_) {
        flags = read_ ? O_RDWR : O_WRONLY;
    } else {
        flags = O_RDONLY;
    }
    if (append_) flags |= O_APPEND;
    if (!write_ && !append_ && (truncate_ || create_ || create_new_))
        return fail_open(std::move(path), "truncate/create need write or append");
    if (truncate_ && append_ && !create_new_) return fail_open(std::move(path), "truncate together with append");
    if (create_new_) {
        flags |= O_CREAT | O_EXCL;
    } else {
        if (create_) flags |= O_CREAT;
        if (truncate_) flags |= O_TRUNC;
    }
    return open_with_flags(std::move(path), flags, mode_);
}

}  // namespace rill::fs
