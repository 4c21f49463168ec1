// Errors of rill::io: stream conditions that are not OS errors, and framing errors.
//
// OS errors (a reset peer, a broken pipe, a full disk) are std::system_error with the
// errno in the generic category. Conditions that rill::io itself detects are
// std::system_error in rill::io's category, comparable to rill::io::errc:
//
//     try { co_await rill::io::read_exact(s, buf); }
//     catch (const std::system_error& e) {
//         if (e.code() == rill::io::errc::unexpected_eof) ...
//     }
//
// (or catch rill::io::unexpected_eof, the type every read_exact throws for it).
//
// A codec given an over-long or malformed frame throws rill::io::frame_error (a
// rill::error): the framed reader that threw is finished, the runtime is not.
#pragma once

#include <string>
#include <system_error>

#include "rill/error.hpp"

namespace rill::io {

enum class errc {
    unexpected_eof = 1,  // the stream ended before the requested bytes arrived
    write_zero = 2,      // a write accepted 0 bytes of a non-empty buffer
};

/// The category of rill::io::errc ("rill::io").
const std::error_category& io_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), io_category()}; }

/// The stream ended before the requested bytes arrived: what every read_exact throws
/// (rill::io::read_exact and the sockets' own; rill::net::unexpected_eof is this type).
/// A std::system_error with code() == errc::unexpected_eof, so either catch works.
class unexpected_eof : public std::system_error {
public:
    explicit unexpected_eof(const char* what = "read_exact")
        : std::system_error(make_error_code(errc::unexpected_eof), what) {}
};

/// Throws std::system_error(e, what); unexpected_eof for errc::unexpected_eof.
[[noreturn]] void throw_io_error(errc e, const char* what);

/// A frame that a codec cannot accept: longer than its maximum, or malformed.
class frame_error : public rill::error {
public:
    using rill::error::error;
};

}  // namespace rill::io

template <>
struct std::is_error_code_enum<rill::io::errc> : std::true_type {};
