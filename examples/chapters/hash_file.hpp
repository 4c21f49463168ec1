// Chapter: a large file on the blocking pool — hashing 50 MB with rill::spawn_blocking.
//
// Hashing a big file is blocking work twice over: the reads wait on the disk and the
// hash keeps a CPU busy for a long time. Inside a task it would hold a worker for the
// whole duration. rill::spawn_blocking(f) runs the whole job — open, read, hash — on
// the blocking pool and gives back a join_handle; the task awaits it while the worker
// keeps running everything else (here: a ticker that must keep ticking).
//
// The job owns everything it touches (the path is captured by value): if the awaiting
// task were cancelled, the job would finish on its own without pointing into a
// destroyed frame.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <rill/fs/file.hpp>
#include <rill/fs/metadata.hpp>
#include <rill/fs/ops.hpp>
#include <rill/io/write.hpp>
#include <rill/rill.hpp>

namespace chapters::hash_file {

inline constexpr std::uint64_t file_size = 50ull * 1024 * 1024;

inline std::byte content(std::uint64_t i) { return static_cast<std::byte>((i * 31 + (i >> 13)) & 0xff); }

// Blocking code, as found in any synchronous library: read the file, FNV-1a 64 over it.
inline std::uint64_t fnv1a_file(const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + p.string());
    std::uint64_t h = 0xcbf29ce484222325ull;
    std::vector<unsigned char> buf(1 << 20);
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i) {
            h ^= buf[static_cast<std::size_t>(i)];
            h *= 0x100000001b3ull;
        }
    }
    ::close(fd);
    return h;
}

// Writes the 50 MB test file through rill::fs::file (each write is a blocking-pool job).
inline rill::task<void> make_file(std::filesystem::path p) {
    rill::fs::file f = co_await rill::fs::file::create(p);
    std::vector<std::byte> chunk(1 << 20);
    for (std::uint64_t off = 0; off < file_size; off += chunk.size()) {
        for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = content(off + i);
        co_await rill::io::write_all(f, chunk);
    }
    co_await f.sync_data();
}

inline rill::task<void> ticker(const std::atomic<bool>* stop, std::atomic<long>* ticks) {
    while (!stop->load()) {
        ticks->fetch_add(1);
        co_await rill::yield_now();
    }
}

inline rill::task<void> async_main(std::filesystem::path p) {
    co_await make_file(p);
    const rill::fs::file_metadata m = co_await rill::fs::metadata(p);
    std::printf("test file: %llu MB\n", static_cast<unsigned long long>(m.size() >> 20));

    std::atomic<bool> stop{false};
    std::atomic<long> ticks{0};
    rill::join_handle<void> tick = rill::spawn(ticker(&stop, &ticks));

    const long before = ticks.load();
    rill::join_handle<std::uint64_t> job = rill::spawn_blocking([p] { return fnv1a_file(p); });
    const std::uint64_t hash = co_await job;  // this task waits; the worker does not
    const long during = ticks.load() - before;

    stop.store(true);
    co_await tick;
    co_await rill::fs::remove_file(p);
    std::printf("fnv1a-64 = %016llx\n", static_cast<unsigned long long>(hash));
    std::printf("the ticker kept ticking while the file was hashed: %s\n", during > 0 ? "yes" : "no");
}

inline int run() {
    const std::filesystem::path p =
        std::filesystem::temp_directory_path() / ("rill_hash_file_" + std::to_string(::getpid()) + ".bin");
    return rill::run(rill::builder::new_multi_thread().worker_threads(1).enable_all(), async_main(p));
}

}  // namespace chapters::hash_file
