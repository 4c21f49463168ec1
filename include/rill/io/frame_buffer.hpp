// rill::io::frame_buffer: the byte buffer a codec decodes from.
//
// A framed reader appends what it reads at the back (prepare/commit); a codec looks at
// data() and consume()s the bytes of each frame it returns. Compaction and growth are
// internal; data() is valid until the next prepare().
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

namespace rill::io {

class frame_buffer {
public:
    /// The bytes received and not yet consumed.
    std::span<const std::byte> data() const noexcept { return {buf_.data() + start_, end_ - start_}; }
    std::size_t size() const noexcept { return end_ - start_; }
    bool empty() const noexcept { return start_ == end_; }
    /// Drops the first n bytes (at most size()).
    void consume(std::size_t n) noexcept {
        start_ += n < size() ? n : size();
        if (start_ == end_) start_ = end_ = 0;
    }
    /// At least `n` writable bytes after the data (commit what was written).
    std::span<std::byte> prepare(std::size_t n) {
        if (buf_.size() - end_ < n && start_ > 0) {
            std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
            end_ -= start_;
            start_ = 0;
        }
        if (buf_.size() - end_ < n) buf_.resize(end_ + n);
        return {buf_.data() + end_, buf_.size() - end_};
    }
    /// Appends `n` bytes written into the span of the last prepare().
    void commit(std::size_t n) noexcept { end_ += n; }
    /// Appends bytes (for tests and codecs that transform).
    void append(std::span<const std::byte> b) {
        std::span<std::byte> dst = prepare(b.size());
        if (!b.empty()) std::memcpy(dst.data(), b.data(), b.size());
        commit(b.size());
    }

private:
    std::vector<std::byte> buf_;
    std::size_t start_ = 0;
    std::size_t end_ = 0;
};

}  // namespace rill::io
