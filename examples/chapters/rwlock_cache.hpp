// Chapter: a read-mostly cache behind an async reader-writer lock.
//
// rill::sync::rwlock<T> lets many readers in at once (read() gives const access) or one
// writer (write() gives exclusive access). It is fair and write-preferring: once a
// writer waits, readers that come later queue behind it, so a steady stream of readers
// cannot starve writers.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rill/rill.hpp>

namespace chapters::rwlock_cache {

using cache = rill::sync::rwlock<std::map<std::string, std::string>>;

// A reader: looks a key up under a read lock (readers run side by side).
inline rill::task<bool> lookup(std::shared_ptr<cache> c, std::string key) {
    auto entries = co_await c->read();
    co_return entries->find(key) != entries->end();
}

// A writer: fills the cache under the write lock (alone).
inline rill::task<void> fill(std::shared_ptr<cache> c) {
    auto entries = co_await c->write();
    (*entries)["rill"] = "an async runtime for C++";
    (*entries)["tokio"] = "an async runtime for Rust";
}

inline rill::task<void> async_main() {
    auto c = std::make_shared<cache>();
    const bool cached = co_await lookup(c, "rill");  // (no co_await inside ?: — STYLE.md)
    std::printf("cold cache: 'rill' cached = %s\n", cached ? "yes" : "no");

    co_await rill::spawn(fill(c));
    std::printf("writer filled the cache under write()\n");

    std::vector<rill::join_handle<bool>> readers;
    for (const char* k : {"rill", "tokio", "asio", "rill"}) readers.push_back(rill::spawn(lookup(c, k)));
    int hits = 0;
    for (auto& r : readers) {
        const bool hit = co_await r;
        hits += hit ? 1 : 0;
    }
    std::printf("4 concurrent readers under read(): %d hits, %d miss\n", hits, 4 - hits);

    auto entries = co_await c->read();
    std::printf("rill = %s\n", entries->at("rill").c_str());
}

inline int run() { return rill::run(async_main()); }

}  // namespace chapters::rwlock_cache
