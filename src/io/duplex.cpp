// duplex: two pipes (one per direction) in one shared block.
//
// Design block.
// A pipe is a ring buffer (grown on demand up to max_) guarded by its mutex, plus at
// most one registered reader and one registered writer (`reader`/`writer` identify the
// awaiter, `read_node`/`write_node` hold its counted wake node). Waking takes the node
// and clears the registration under the mutex; the wake itself happens after unlock.
// An awaiter's destructor withdraws its registration under the same mutex, so once it
// returns no wake can target it.
//
// Invariant that keeps the awaiters free of retry loops: per pipe there is one reader
// and one writer at a time (a second concurrent one is refused with logic_error). A
// reader is woken only when the buffer holds bytes or the write side is closed; only
// that reader removes bytes, and closing is sticky, so when it resumes the read
// completes. Symmetrically for the writer (space, or a closed side).
//
// Lifetime: the block holds two refs, one per end; an end's destructor closes its
// read side and its write side, then drops its ref.
#include "rill/io/duplex.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace rill::io {

namespace detail {

using rill::detail::wake_node;

struct duplex_pipe {
    std::mutex mutex;
    std::vector<std::byte> ring;  // capacity grows up to max_
    std::size_t head = 0;         // index of the first buffered byte
    std::size_t len = 0;          // bytes buffered
    std::size_t max = 0;
    bool write_closed = false;  // shut down or writer end destroyed: EOF after the bytes
    bool read_closed = false;   // reader end destroyed: writes fail with EPIPE
    const void* reader = nullptr;
    wake_node* read_node = nullptr;
    const void* writer = nullptr;
    wake_node* write_node = nullptr;

    ~duplex_pipe() {
        rill::detail::drop_node(read_node);
        rill::detail::drop_node(write_node);
    }

    void copy_out(std::byte* dst, std::size_t n) noexcept {
        const std::size_t cap = ring.size();
        const std::size_t first = std::min(n, cap - head);
        std::memcpy(dst, ring.data() + head, first);
        if (n > first) std::memcpy(dst + first, ring.data(), n - first);
        head = (head + n) % cap;
        len -= n;
        if (len == 0) head = 0;
    }

    void copy_in(const std::byte* src, std::size_t n) {
        if (len + n > ring.size()) grow(len + n);
        const std::size_t cap = ring.size();
        const std::size_t tail = (head + len) % cap;
        const std::size_t first = std::min(n, cap - tail);
        std::memcpy(ring.data() + tail, src, first);
        if (n > first) std::memcpy(ring.data(), src + first, n - first);
        len += n;
    }

    void grow(std::size_t need) {
        std::size_t cap = std::max<std::size_t>(ring.size(), 256);
        while (cap < need) cap *= 2;
        cap = std::min(cap, max);
        std::vector<std::byte> next(cap);
        const std::size_t n = len;
        if (n > 0) copy_out(next.data(), n);
        ring.swap(next);
        head = 0;
        len = n;
    }

    wake_node* take_reader() noexcept {
        reader = nullptr;
        return std::exchange(read_node, nullptr);
    }
    wake_node* take_writer() noexcept {
        writer = nullptr;
        return std::exchange(write_node, nullptr);
    }
};

struct duplex_inner {
    duplex_pipe pipes[2];  // pipes[i]: what end i reads
    std::atomic<int> refs{2};
};

namespace {
void wake(wake_node* n) noexcept {
    if (n) rill::detail::wake_by_value(n);
}
}  // namespace

bool duplex_read_step(duplex_pipe* p, std::span<std::byte> buf, std::size_t& n, const void* who, wake_node* node) {
    wake_node* to_wake = nullptr;
    {
        std::unique_lock lock(p->mutex);
        if (p->reader != nullptr && p->reader != who) {
            lock.unlock();
            rill::detail::drop_node(node);
            throw std::logic_error("rill::io::duplex_stream: two reads in flight on one end");
        }
        if (p->len > 0 || p->write_closed || buf.empty()) {
            n = std::min(p->len, buf.size());
            if (n > 0) {
                p->copy_out(buf.data(), n);
                to_wake = p->take_writer();  // space was made
            }
            if (p->reader == who) rill::detail::drop_node(p->take_reader());
        } else {
            if (node == nullptr) return false;
            wake_node* old = std::exchange(p->read_node, node);
            p->reader = who;
            lock.unlock();
            rill::detail::drop_node(old);
            return false;
        }
    }
    rill::detail::drop_node(node);
    wake(to_wake);
    return true;
}

bool duplex_write_step(duplex_pipe* p, std::span<const std::byte> buf, std::size_t& n, int& err, const void* who,
                       wake_node* node) {
    wake_node* to_wake = nullptr;
    {
        std::unique_lock lock(p->mutex);
        if (p->writer != nullptr && p->writer != who) {
            lock.unlock();
            rill::detail::drop_node(node);
            throw std::logic_error("rill::io::duplex_stream: two writes in flight on one end");
        }
        const std::size_t space = p->max - p->len;
        if (p->read_closed || p->write_closed) {
            err = EPIPE;
        } else if (buf.empty()) {
            n = 0;
        } else if (space > 0) {
            n = std::min(space, buf.size());
            p->copy_in(buf.data(), n);
            to_wake = p->take_reader();
        } else {
            if (node == nullptr) return false;
            wake_node* old = std::exchange(p->write_node, node);
            p->writer = who;
            lock.unlock();
            rill::detail::drop_node(old);
            return false;
        }
        if (p->writer == who) rill::detail::drop_node(p->take_writer());
    }
    rill::detail::drop_node(node);
    wake(to_wake);
    return true;
}

void duplex_withdraw_reader(duplex_pipe* p, const void* who) noexcept {
    wake_node* mine = nullptr;
    {
        std::lock_guard lock(p->mutex);
        if (p->reader == who) mine = p->take_reader();
    }
    rill::detail::drop_node(mine);
}

void duplex_withdraw_writer(duplex_pipe* p, const void* who) noexcept {
    wake_node* mine = nullptr;
    {
        std::lock_guard lock(p->mutex);
        if (p->writer == who) mine = p->take_writer();
    }
    rill::detail::drop_node(mine);
}

void duplex_throw(int err) { throw std::system_error(err, std::generic_category(), "rill::io::duplex_stream::write"); }

void duplex_shutdown_write(duplex_pipe* p) noexcept {
    wake_node* r;
    wake_node* w;
    {
        std::lock_guard lock(p->mutex);
        p->write_closed = true;
        r = p->take_reader();
        w = p->take_writer();
    }
    wake(r);
    wake(w);
}

namespace {
void close_read(duplex_pipe* p) noexcept {
    wake_node* r;
    wake_node* w;
    {
        std::lock_guard lock(p->mutex);
        p->read_closed = true;
        p->len = 0;
        p->head = 0;
        std::vector<std::byte>().swap(p->ring);
        r = p->take_reader();
        w = p->take_writer();
    }
    wake(r);
    wake(w);
}
}  // namespace

}  // namespace detail

detail::duplex_pipe* duplex_stream::in() const noexcept { return &inner_->pipes[side_]; }
detail::duplex_pipe* duplex_stream::out() const noexcept { return &inner_->pipes[1 - side_]; }

void duplex_stream::close() noexcept {
    if (detail::duplex_inner* inner = std::exchange(inner_, nullptr)) {
        detail::duplex_shutdown_write(&inner->pipes[1 - side_]);
        detail::close_read(&inner->pipes[side_]);
        if (inner->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete inner;
    }
}

duplex_stream& duplex_stream::operator=(duplex_stream&& o) noexcept {
    if (this != &o) {
        close();
        inner_ = std::exchange(o.inner_, nullptr);
        side_ = o.side_;
    }
    return *this;
}

duplex_stream::~duplex_stream() { close(); }

std::pair<duplex_stream, duplex_stream> duplex(std::size_t max_buf) {
    if (max_buf == 0) throw std::invalid_argument("rill::io::duplex: max_buf must be at least 1");
    auto* inner = new detail::duplex_inner;
    inner->pipes[0].max = max_buf;
    inner->pipes[1].max = max_buf;
    return {duplex_stream(inner, 0), duplex_stream(inner, 1)};
}

}  // namespace rill::io
