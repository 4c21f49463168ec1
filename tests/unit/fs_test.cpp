// rill::fs on the blocking pool: whole-file helpers, directories, metadata, read_dir,
// fs::file with open_options, seek/set_len/sync, errors (errno + path in the message),
// file as an io stream (buf_reader lines), and cancel safety: a file read destroyed
// while its blocking job is stuck keeps no pointer into the dead frame, and its bytes
// are returned by the next read.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "rill/fs/file.hpp"
#include "rill/fs/metadata.hpp"
#include "rill/fs/ops.hpp"
#include "rill/fs/read_dir.hpp"
#include "rill/io/buf_reader.hpp"
#include "rill/io/read.hpp"
#include "rill/io/write.hpp"
#include "rill/rill.hpp"
#include "support/rt.hpp"

namespace {

namespace sfs = std::filesystem;
using rill::io::as_bytes;

static_assert(rill::io::async_read<rill::fs::file> && rill::io::async_write<rill::fs::file>);

class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (sfs::temp_directory_path() / "rill_fs_XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        sfs::remove_all(path_, ec);
    }
    const sfs::path& path() const { return path_; }

private:
    sfs::path path_;
};

class fs_rt : public rill_test::both_flavors {
protected:
    temp_dir tmp_;
};

rill::task<std::string> write_read_roundtrip(sfs::path p) {
    co_await rill::fs::write(p, std::string_view("hello fs\n"));
    std::string s = co_await rill::fs::read_to_string(p);
    std::vector<std::byte> b = co_await rill::fs::read(p);
    if (b.size() != s.size()) throw std::runtime_error("read and read_to_string differ");
    rill::fs::file_metadata m = co_await rill::fs::metadata(p);
    if (m.size() != 9 || !m.is_file() || m.is_dir()) throw std::runtime_error("bad metadata");
    if (m.modified().time_since_epoch().count() <= 0) throw std::runtime_error("no mtime");
    co_return s;
}

TEST_P(fs_rt, write_then_read_and_metadata) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(write_read_roundtrip(tmp_.path() / "a.txt")), "hello fs\n");
}

// The error is caught inside the task (see io_util_test: an exception handed across
// threads by block_on trips a TSan false positive in libstdc++'s refcounts).
rill::task<std::string> read_missing(sfs::path p) {
    try {
        (void)co_await rill::fs::read_to_string(p);
    } catch (const std::system_error& e) {
        co_return std::string(e.code() == std::errc::no_such_file_or_directory ? "ENOENT: " : "other: ") + e.what();
    }
    co_return "no error";
}

TEST_P(fs_rt, errors_carry_the_errno_and_the_path) {
    auto rt = this->rt();
    const sfs::path p = tmp_.path() / "does-not-exist.conf";
    const std::string r = rt.block_on(read_missing(p));
    EXPECT_EQ(r.rfind("ENOENT: ", 0), 0u) << r;
    EXPECT_NE(r.find(p.string()), std::string::npos) << r;
}

rill::task<std::vector<std::string>> dirs_and_listing(sfs::path root) {
    co_await rill::fs::create_dir_all(root / "x" / "y" / "z");
    co_await rill::fs::create_dir_all(root / "x" / "y" / "z");  // existing: fine
    co_await rill::fs::write(root / "x" / "f1", std::string_view("1"));
    co_await rill::fs::write(root / "x" / "f2", std::string_view("22"));
    co_await rill::fs::rename(root / "x" / "f2", root / "x" / "g2");
    const std::uint64_t copied = co_await rill::fs::copy(root / "x" / "g2", root / "x" / "h2");
    if (copied != 2) throw std::runtime_error("copy count");
    if (!(co_await rill::fs::metadata(root / "x" / "y")).is_dir()) throw std::runtime_error("not a dir");
    co_await rill::fs::remove_file(root / "x" / "f1");
    if (co_await rill::fs::try_exists(root / "x" / "f1")) throw std::runtime_error("still there");
    std::vector<std::string> names;
    rill::fs::read_dir_stream dir = co_await rill::fs::read_dir(root / "x");
    while (std::optional<rill::fs::dir_entry> e = co_await dir.next_entry())
        names.push_back(e->file_name() + (e->is_dir() ? "/" : ""));
    std::sort(names.begin(), names.end());
    co_await rill::fs::remove_dir_all(root / "x");
    if (co_await rill::fs::try_exists(root / "x")) throw std::runtime_error("remove_dir_all left it");
    co_return names;
}

TEST_P(fs_rt, directories_rename_copy_remove_and_read_dir) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(dirs_and_listing(tmp_.path())), (std::vector<std::string>{"g2", "h2", "y/"}));
}

rill::task<std::size_t> many_entries(sfs::path root, int n) {
    co_await rill::fs::create_dir(root / "many");
    for (int i = 0; i < n; ++i) co_await rill::fs::write(root / "many" / std::to_string(i), std::string_view(""));
    rill::fs::read_dir_stream dir = co_await rill::fs::read_dir(root / "many");
    std::set<std::string> seen;
    while (auto e = co_await dir.next_entry()) seen.insert(e->file_name());
    co_return seen.size();
}

TEST_P(fs_rt, read_dir_crosses_batches) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(many_entries(tmp_.path(), 100)), 100u);
}

rill::task<std::string> file_ops(sfs::path p) {
    {
        rill::fs::file f = co_await rill::fs::file::create(p);
        co_await rill::io::write_all(f, as_bytes("0123456789"));
        co_await f.sync_all();
        if ((co_await f.metadata()).size() != 10) throw std::runtime_error("size after write");
        co_await f.set_len(6);
        if ((co_await f.metadata()).size() != 6) throw std::runtime_error("size after set_len");
    }
    std::string out;
    {
        rill::fs::file f = co_await rill::fs::open_options().read(true).write(true).open(p);
        std::vector<std::byte> two(2);
        co_await rill::io::read_exact(f, two);                   // "01"
        const std::uint64_t pos = co_await f.seek(1, rill::fs::seek_from::current);  // skip "2"
        if (pos != 3) throw std::runtime_error("seek position " + std::to_string(pos));
        co_await rill::io::write_all(f, as_bytes("X"));          // overwrites "3"
        co_await f.seek(0);
        co_await rill::io::read_to_string(f, out);
    }
    {
        rill::fs::file f = co_await rill::fs::open_options().append(true).open(p);
        co_await rill::io::write_all(f, as_bytes("+tail"));
    }
    out += "|" + co_await rill::fs::read_to_string(p);
    co_return out;
}

TEST_P(fs_rt, file_read_write_seek_set_len_and_append) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(file_ops(tmp_.path() / "f.bin")), "012X45|012X45+tail");
}

rill::task<int> open_error(sfs::path p, rill::fs::open_options o) {
    try {
        rill::fs::file f = co_await o.open(p);
    } catch (const std::system_error& e) {
        co_return e.code().value();
    }
    co_return 0;
}

TEST_P(fs_rt, open_options_are_validated_and_create_new_refuses_existing_files) {
    auto rt = this->rt();
    const sfs::path p = tmp_.path() / "o.txt";
    using oo = rill::fs::open_options;
    EXPECT_EQ(rt.block_on(open_error(p, oo().write(true).create_new(true))), 0);
    EXPECT_EQ(rt.block_on(open_error(p, oo().write(true).create_new(true))), EEXIST);
    EXPECT_EQ(rt.block_on(open_error(p, oo())), EINVAL);
    EXPECT_EQ(rt.block_on(open_error(p, oo().read(true).truncate(true))), EINVAL);
    EXPECT_EQ(rt.block_on(open_error(p, oo().append(true).truncate(true))), EINVAL);
    EXPECT_EQ(rt.block_on(open_error(tmp_.path() / "nope" / "x", oo().read(true))), ENOENT);
}

rill::task<std::vector<std::string>> file_lines(sfs::path p) {
    co_await rill::fs::write(p, std::string_view("l1\nl2\r\nl3"));
    rill::io::buf_reader r(co_await rill::fs::file::open(p));
    auto lines = r.lines();
    std::vector<std::string> got;
    while (auto l = co_await lines.next_line()) got.push_back(*l);
    co_return got;
}

TEST_P(fs_rt, a_file_is_an_io_stream) {
    auto rt = this->rt();
    EXPECT_EQ(rt.block_on(file_lines(tmp_.path() / "lines.txt")), (std::vector<std::string>{"l1", "l2", "l3"}));
}

// --- cancel safety ----------------------------------------------------------------------------

rill::task<std::size_t> read_into_frame(rill::fs::file* f) {
    std::vector<std::byte> buf(64);  // dies with this frame when the task is aborted
    co_return co_await f->read(buf);
}

rill::task<std::string> cancelled_read_keeps_its_bytes(sfs::path fifo) {
    // O_RDWR on a FIFO: the open does not wait for a writer, and a read blocks (in the
    // blocking job) until bytes arrive.
    rill::fs::file f = co_await rill::fs::open_options().read(true).write(true).open(fifo);
    auto h = rill::spawn(read_into_frame(&f));
    for (int i = 0; i < 200; ++i) co_await rill::yield_now();  // let the read start (not required)
    h.abort();
    try {
        (void)co_await h;
    } catch (const rill::join_error&) {
    }
    // Now feed the FIFO: the job of the cancelled read (if it started) takes these bytes
    // into its own buffer; the next read must return them.
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w < 0) throw std::system_error(errno, std::generic_category(), "open fifo for writing");
    const ssize_t n = ::write(w, "abc", 3);
    ::close(w);
    if (n != 3) throw std::runtime_error("fifo write");
    std::vector<std::byte> buf(64);
    const std::size_t got = co_await f.read(buf);
    co_return std::string(reinterpret_cast<const char*>(buf.data()), got);
}

TEST_P(fs_rt, a_cancelled_file_read_loses_no_bytes_and_touches_no_freed_buffer) {
    auto rt = this->rt();
    const sfs::path fifo = tmp_.path() / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(rt.block_on(cancelled_read_keeps_its_bytes(fifo)), "abc");
}

// A read cancelled while its job waited leaves its bytes buffered for the next read;
// set_len must drop them, or a read after truncating returns bytes the file lost.
rill::task<std::size_t> read_after_set_len_behind_a_cancelled_read(sfs::path p) {
    rill::fs::file f = co_await rill::fs::open_options().read(true).write(true).open(p);
    std::atomic<bool> release{false};
    // The pool has one thread: this job holds it, so the read's job waits in the queue.
    auto blocker = rill::spawn_blocking([&release] {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    auto h = rill::spawn(read_into_frame(&f));
    for (int i = 0; i < 50; ++i) co_await rill::yield_now();  // the read queues its job
    h.abort();
    try {
        (void)co_await h;
    } catch (const rill::join_error&) {
    }
    release = true;
    co_await blocker;
    co_await f.set_len(0);
    std::vector<std::byte> buf(64);
    co_return co_await f.read(buf);
}

TEST_P(fs_rt, set_len_drops_what_a_cancelled_read_buffered) {
    auto rt = this->builder().max_blocking_threads(1).build();
    const sfs::path p = tmp_.path() / "hundred";
    {
        std::FILE* out = std::fopen(p.c_str(), "wb");
        ASSERT_NE(out, nullptr);
        ASSERT_EQ(std::fwrite(std::string(100, 'x').data(), 1, 100, out), 100u);
        std::fclose(out);
    }
    EXPECT_EQ(rt.block_on(read_after_set_len_behind_a_cancelled_read(p)), 0u);
    EXPECT_EQ(sfs::file_size(p), 0u);
}

RILL_BOTH_FLAVORS(fs_rt);

}  // namespace
