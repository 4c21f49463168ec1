// rill::io::split: one stream as a read half and a write half for two tasks.
//
//     auto [rd, wr] = rill::io::split(std::move(stream));
//     rill::spawn(reader_loop(std::move(rd)));     // reads
//     co_await rill::io::write_all(wr, data);      // writes, at the same time
//     auto stream2 = rill::io::unsplit(std::move(rd2), std::move(wr2));
//
// split takes the stream by value and shares it between the halves (the stream is
// destroyed with the last half). read_half<S> satisfies async_read, write_half<S>
// async_write. unsplit puts the halves of one split back together (std::invalid_argument
// for halves of different splits).
//
// Requirement on S: one read and one write in flight at the same time, from different
// tasks (and threads), must be safe. Sockets (whose two directions are independent) and
// rill::io::duplex_stream meet it; a stream type whose read and write share unguarded
// state does not, and must not be split. There is no lock in the halves: one task per
// half at a time.
//
// Cancel safety: that of S's read and write.
// Resumes on: the awaiting task's worker.
// Thread safety: each half is used by one task at a time; the two halves may be used by
// two tasks on different threads at once.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/io/traits.hpp"

namespace rill::io {

template <class S>
class read_half;
template <class S>
class write_half;
template <class S>
std::pair<read_half<S>, write_half<S>> split(S s);
template <class S>
S unsplit(read_half<S> r, write_half<S> w);

template <class S>
class read_half {
public:
    read_half(read_half&&) noexcept = default;
    read_half& operator=(read_half&&) noexcept = default;
    read_half(const read_half&) = delete;
    read_half& operator=(const read_half&) = delete;

    /// Reads from the shared stream.
    auto read(std::span<std::byte> buf) { return s_->read(buf); }
    /// True when both halves come from the same split.
    template <class T>
    bool is_pair_of(const T& w) const noexcept {
        return s_ == w.s_;
    }

private:
    template <class T>
    friend class write_half;
    template <class T>
    friend std::pair<read_half<T>, write_half<T>> split(T s);
    template <class T>
    friend T unsplit(read_half<T> r, write_half<T> w);
    explicit read_half(std::shared_ptr<S> s) noexcept : s_(std::move(s)) {}
    std::shared_ptr<S> s_;
};

template <class S>
class write_half {
public:
    write_half(write_half&&) noexcept = default;
    write_half& operator=(write_half&&) noexcept = default;
    write_half(const write_half&) = delete;
    write_half& operator=(const write_half&) = delete;

    auto write(std::span<const std::byte> buf) { return s_->write(buf); }
    auto flush() { return s_->flush(); }
    auto shutdown() { return s_->shutdown(); }

private:
    template <class T>
    friend class read_half;
    template <class T>
    friend std::pair<read_half<T>, write_half<T>> split(T s);
    template <class T>
    friend T unsplit(read_half<T> r, write_half<T> w);
    explicit write_half(std::shared_ptr<S> s) noexcept : s_(std::move(s)) {}
    std::shared_ptr<S> s_;
};

/// Splits `s` into a read half and a write half that share it.
template <class S>
std::pair<read_half<S>, write_half<S>> split(S s) {
    static_assert(async_read<S> && async_write<S>, "rill::io::split: S must be readable and writable");
    auto shared = std::make_shared<S>(std::move(s));
    return {read_half<S>(shared), write_half<S>(shared)};
}

/// Puts the halves of one split back together.
template <class S>
S unsplit(read_half<S> r, write_half<S> w) {
    if (r.s_ != w.s_) throw std::invalid_argument("rill::io::unsplit: halves of different streams");
    S s = std::move(*r.s_);
    return s;
}

}  // namespace rill::io
