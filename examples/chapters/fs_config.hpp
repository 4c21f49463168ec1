// Chapter: reading a config file — rill::fs, not a blocking read (pitfall 1).
//
// A task must never block its worker thread. std::ifstream, fread, ::read on a file
// all block: regular files never report "would block", so an async runtime cannot
// multiplex them, and a read from a slow disk or a network filesystem holds the worker
// for as long as the disk takes. Every other task queued on that worker waits.
//
// rill::fs runs the blocking call on the runtime's blocking pool (as Tokio's tokio::fs
// does): the task awaits, the worker goes on running other tasks.
//
// To make the difference visible, this chapter reads its config from a FIFO whose
// writer answers after 200 ms — a stand-in for a slow disk — on a runtime with ONE
// worker, while a ticker task counts how often it got to run.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <rill/fs/ops.hpp>
#include <rill/rill.hpp>

namespace chapters::fs_config {

inline const char* const config_text = "# demo service\nport = 8080\nname = demo\n";

// Parses "key = value" lines; '#' starts a comment.
inline std::map<std::string, std::string> parse(const std::string& text) {
    std::map<std::string, std::string> kv;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        auto trim = [](std::string s) {
            s.erase(0, s.find_first_not_of(" \t"));
            s.erase(s.find_last_not_of(" \t\r") + 1);
            return s;
        };
        kv[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return kv;
}

// The "slow disk": a plain thread that opens the FIFO and answers after 200 ms.
inline std::thread slow_disk(std::filesystem::path fifo) {
    return std::thread([fifo] {
        std::ofstream out(fifo);  // waits for the reader to open the FIFO
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        out << config_text;
    });
}

inline rill::task<void> ticker(const std::atomic<bool>* stop, std::atomic<long>* ticks) {
    while (!stop->load()) {
        ticks->fetch_add(1);
        co_await rill::yield_now();
    }
}

// WRONG: a blocking read inside a task.
inline rill::task<long> load_blocking(std::filesystem::path p, std::atomic<long>* ticks) {
    const long before = ticks->load();
    std::ifstream in(p);  // blocks this worker thread...
    std::stringstream ss;
    ss << in.rdbuf();     // ...until the "disk" answers
    const long after = ticks->load();
    const auto cfg = parse(ss.str());
    std::printf("config via std::ifstream on a worker: port=%s name=%s\n", cfg.at("port").c_str(),
                cfg.at("name").c_str());
    co_return after - before;
}

// RIGHT: rill::fs runs the read on the blocking pool; this task just awaits.
inline rill::task<long> load_async(std::filesystem::path p, std::atomic<long>* ticks) {
    const long before = ticks->load();
    const std::string text = co_await rill::fs::read_to_string(p);
    const long after = ticks->load();
    const auto cfg = parse(text);
    std::printf("config via rill::fs::read_to_string: port=%s name=%s\n", cfg.at("port").c_str(),
                cfg.at("name").c_str());
    co_return after - before;
}

inline rill::task<void> async_main(std::filesystem::path fifo) {
    std::atomic<bool> stop{false};
    std::atomic<long> ticks{0};
    rill::join_handle<void> tick = rill::spawn(ticker(&stop, &ticks));
    while (ticks.load() == 0) co_await rill::yield_now();  // the ticker is running

    std::thread disk = slow_disk(fifo);
    const long blocked_ticks = co_await rill::spawn(load_blocking(fifo, &ticks));
    disk.join();
    std::printf("ticks while the worker was blocked in std::ifstream: %ld\n", blocked_ticks);
    std::printf("pitfall: the blocking read held the runtime's only worker for 200 ms; no other task ran\n");

    disk = slow_disk(fifo);
    const long async_ticks = co_await rill::spawn(load_async(fifo, &ticks));
    disk.join();
    std::printf("ticker kept running during rill::fs::read_to_string: %s\n", async_ticks > 0 ? "yes" : "no");
    std::printf("fix: rill::fs (or rill::spawn_blocking) moves the blocking read off the worker\n");

    stop.store(true);
    co_await tick;
}

inline int run() {
    std::string dir = (std::filesystem::temp_directory_path() / "rill_fs_config_XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) return 1;
    const std::filesystem::path fifo = std::filesystem::path(dir) / "app.conf";
    if (::mkfifo(fifo.c_str(), 0600) != 0) return 1;
    const int rc = rill::run(rill::builder::new_multi_thread().worker_threads(1).enable_all(), async_main(fifo));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return rc;
}

}  // namespace chapters::fs_config
