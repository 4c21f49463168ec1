// rill::io::lines_codec: frames are text lines (Tokio's LinesCodec).
//
//     rill::io::framed f(std::move(stream), rill::io::lines_codec(4096));
//     while (auto line = co_await f.next()) co_await f.send(*line);
//
// A frame ends at '\n'; a "\r\n" ending is accepted too (the '\r' is dropped). The item
// is the line without its ending. At EOF a last line without '\n' is still returned.
// A line longer than max_length() bytes (ending excluded; default 8 MiB) throws
// rill::io::frame_error as soon as it is known to be too long: the buffer never grows
// past about max_length bytes, whatever the peer sends. A max_length of SIZE_MAX means
// no limit (Tokio's LinesCodec::new()). encode appends line + "\n".
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rill/io/error.hpp"
#include "rill/io/frame_buffer.hpp"

namespace rill::io {

class lines_codec {
public:
    using item_type = std::string;
    static constexpr std::size_t default_max_length = 8 * 1024 * 1024;

    explicit lines_codec(std::size_t max_length = default_max_length) noexcept : max_(max_length) {}

    std::size_t max_length() const noexcept { return max_; }

    std::optional<std::string> decode(frame_buffer& buf);
    std::optional<std::string> decode_eof(frame_buffer& buf);
    void encode(std::string_view line, std::vector<std::byte>& out) const;

private:
    std::size_t max_;
    std::size_t scanned_ = 0;  // bytes at the front of the buffer known to hold no '\n'
};

}  // namespace rill::io
