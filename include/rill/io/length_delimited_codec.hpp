// rill::io::length_delimited_codec: frames prefixed by their length (Tokio's
// LengthDelimitedCodec).
//
//     rill::io::framed f(std::move(stream), rill::io::length_delimited_codec());
//     co_await f.send(payload);                       // 4-byte big-endian length + payload
//     std::optional<std::vector<std::byte>> m = co_await f.next();
//
// Each frame is a length field (length_field_length bytes, 1..8, default 4; big-endian
// by default) followed by that many payload bytes. A frame whose announced length is
// over max_frame_length (default 8 MiB, as Tokio) throws rill::io::frame_error when the
// header arrives, before any payload is buffered; a stream that ends inside a frame
// throws frame_error too. encode throws frame_error for a payload over the maximum, or
// one that the length field cannot represent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rill/io/error.hpp"
#include "rill/io/frame_buffer.hpp"

namespace rill::io {

class length_delimited_codec {
public:
    using item_type = std::vector<std::byte>;

    struct options {
        std::size_t max_frame_length = 8 * 1024 * 1024;
        unsigned length_field_length = 4;
        bool big_endian = true;
    };

    length_delimited_codec() : length_delimited_codec(options{}) {}
    /// Throws std::invalid_argument for a length_field_length outside 1..8.
    explicit length_delimited_codec(options o);

    const options& config() const noexcept { return opt_; }

    std::optional<std::vector<std::byte>> decode(frame_buffer& buf);
    std::optional<std::vector<std::byte>> decode_eof(frame_buffer& buf);
    void encode(std::span<const std::byte> payload, std::vector<std::byte>& out) const;

private:
    options opt_;
};

}  // namespace rill::io
