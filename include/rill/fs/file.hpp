// rill::fs::file: an open file whose operations run on the blocking pool (Tokio's File).
//
//     rill::fs::file f = co_await rill::fs::file::create("data.bin");
//     co_await rill::io::write_all(f, payload);
//     co_await f.sync_all();
//
//     rill::fs::file in = co_await rill::fs::open_options().read(true).open("data.bin");
//     std::vector<std::byte> all;
//     co_await rill::io::read_to_end(in, all);
//
// file::open (read-only), file::create (write, create, truncate) and open_options
// (read, write, append, truncate, create, create_new, mode) open a file; file satisfies
// rill::io::async_read and rill::io::async_write, so every rill::io helper (buf_reader,
// copy, framed...) works on it. Also: seek, sync_all, sync_data, set_len, metadata.
// Errors: std::system_error with the errno and the file's path in the message. Invalid
// option combinations (truncate or create without write, nothing to open for) throw
// std::system_error(EINVAL) from open.
//
// How operations run (why this is cancel-safe): each read or write is one blocking job
// that OWNS its buffer: a write copies the caller's bytes (up to 2 MiB per call) into
// the job, a read fills a vector owned by the job and the bytes are copied into the
// caller's span only after the await resumes, on the task's thread. The job also holds
// a reference on the file descriptor. So a task destroyed mid-read or mid-write leaves
// no job pointing into its frame or its buffer — unlike a naive spawn_blocking([&]{
// ::read(fd, buf.data(), ...) }), which would write into freed memory. The job of a
// cancelled operation keeps running; its handle stays in the file, and the next
// operation on the file first waits for it: the bytes of a cancelled read are kept and
// returned by the next read (not lost), and the error of a cancelled write is reported
// by the next operation. Destroying the file while a job runs is fine too: the job
// finishes and the descriptor is closed after it.
//
// Cancel safety: read and write are cancel-safe as described (no bytes are lost or
// duplicated in the file's stream position); seek/sync/set_len/metadata may have taken
// effect when cancelled.
// Resumes on: the awaiting task's worker.
// Thread safety: a file is used by one task at a time (one operation in flight).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "rill/fs/metadata.hpp"
#include "rill/runtime/join_handle.hpp"
#include "rill/task.hpp"

namespace rill::fs {

/// Where seek counts from.
enum class seek_from { start, current, end };

namespace detail {
struct file_inner;
enum class file_op : std::uint8_t { none, read, write, other };
struct file_op_result {
    std::vector<std::byte> data;  // what a read read
    std::int64_t value = 0;       // bytes written, new position...
    int err = 0;                  // errno, 0 on success
    file_metadata meta{};
};
}  // namespace detail

class file {
public:
    /// Largest amount one read or write moves (as Tokio's File).
    static constexpr std::size_t max_chunk = 2 * 1024 * 1024;

    file(file&&) noexcept;
    file& operator=(file&&) noexcept;
    file(const file&) = delete;
    file& operator=(const file&) = delete;
    ~file();

    /// Opens an existing file for reading.
    static task<file> open(std::filesystem::path path);
    /// Opens a file for writing, creating it or truncating it.
    static task<file> create(std::filesystem::path path);

    /// Reads up to buf.size() bytes (at most max_chunk); 0 at end of file.
    task<std::size_t> read(std::span<std::byte> buf);
    /// Writes up to buf.size() bytes (at most max_chunk; returns the count written).
    task<std::size_t> write(std::span<const std::byte> buf);
    /// Waits for an operation left running by a cancelled await; reports its error.
    task<void> flush();
    /// The same as flush (a file has no write side to shut).
    task<void> shutdown();
    /// Moves the position; returns the new position from the start.
    task<std::uint64_t> seek(std::int64_t offset, seek_from whence = seek_from::start);
    /// fsync: data and metadata reach the device.
    task<void> sync_all();
    /// fdatasync: data reaches the device.
    task<void> sync_data();
    /// Truncates or extends the file to `size` bytes.
    task<void> set_len(std::uint64_t size);
    /// fstat of the open file.
    task<file_metadata> metadata();

    /// The descriptor (valid while the file lives).
    int native_handle() const noexcept;
    const std::filesystem::path& path() const noexcept;

private:
    friend class open_options;
    friend task<file> open_with_flags(std::filesystem::path, int, unsigned);
    explicit file(std::shared_ptr<detail::file_inner> inner) noexcept;
    task<void> finish_pending();
    void take_result(detail::file_op_result& r) noexcept;
    void throw_deferred();
    task<detail::file_op_result> run_other(int which, std::uint64_t arg);

    std::shared_ptr<detail::file_inner> inner_;
    std::optional<join_handle<detail::file_op_result>> pending_;
    detail::file_op pending_kind_ = detail::file_op::none;
    std::vector<std::byte> rbuf_;  // bytes of a read whose await was cancelled
    std::size_t rpos_ = 0;
    int deferred_err_ = 0;  // error of a write whose await was cancelled
};

/// Opens files with chosen options (Rust's OpenOptions).
class open_options {
public:
    open_options& read(bool on) noexcept { read_ = on; return *this; }
    open_options& write(bool on) noexcept { write_ = on; return *this; }
    open_options& append(bool on) noexcept { append_ = on; return *this; }
    open_options& truncate(bool on) noexcept { truncate_ = on; return *this; }
    open_options& create(bool on) noexcept { create_ = on; return *this; }
    open_options& create_new(bool on) noexcept { create_new_ = on; return *this; }
    /// Permission bits of a created file (default 0666, minus the umask).
    open_options& mode(unsigned m) noexcept { mode_ = m; return *this; }

    /// Opens `path` (the options are read now, not when awaited).
    task<file> open(std::filesystem::path path) const;

private:
    bool read_ = false, write_ = false, append_ = false, truncate_ = false, create_ = false, create_new_ = false;
    unsigned mode_ = 0666;
};

/// Opens with raw open(2) flags (O_CLOEXEC is added). Used by open_options.
task<file> open_with_flags(std::filesystem::path path, int flags, unsigned mode);

}  // namespace rill::fs
