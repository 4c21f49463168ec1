// lines_codec and length_delimited_codec.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "rill/io/length_delimited_codec.hpp"
#include "rill/io/lines_codec.hpp"

namespace rill::io {

// --- lines_codec -----------------------------------------------------------------------

namespace {
std::string take_line(frame_buffer& buf, std::size_t len, std::size_t consumed) {
    const auto* p = reinterpret_cast<const char*>(buf.data().data());
    std::string line(p, len);
    buf.consume(consumed);
    return line;
}

[[noreturn]] void line_too_long(std::size_t max) {
    throw frame_error("rill::io::lines_codec: line longer than max_length (" + std::to_string(max) + " bytes)");
}
}  // namespace

std::optional<std::string> lines_codec::decode(frame_buffer& buf) {
    std::span<const std::byte> d = buf.data();
    if (scanned_ > d.size()) scanned_ = 0;  // the buffer was consumed elsewhere
    auto it = std::find(d.begin() + static_cast<std::ptrdiff_t>(scanned_), d.end(), std::byte{'\n'});
    if (it == d.end()) {
        scanned_ = d.size();
        // Even a "\r\n" ending could not make a line this long valid: d.size() > max_ + 1,
        // written so that max_ == SIZE_MAX (no limit) does not wrap.
        if (d.size() > max_ && d.size() - max_ > 1) line_too_long(max_);
        return std::nullopt;
    }
    scanned_ = 0;
    const std::size_t nl = static_cast<std::size_t>(it - d.begin());
    std::size_t len = nl;
    if (len > 0 && d[len - 1] == std::byte{'\r'}) --len;
    if (len > max_) line_too_long(max_);
    return take_line(buf, len, nl + 1);
}

std::optional<std::string> lines_codec::decode_eof(frame_buffer& buf) {
    if (std::optional<std::string> line = decode(buf)) return line;
    if (buf.empty()) return std::nullopt;
    scanned_ = 0;
    std::size_t len = buf.size();
    if (buf.data()[len - 1] == std::byte{'\r'}) --len;
    if (len > max_) line_too_long(max_);
    return take_line(buf, len, buf.size());
}

void lines_codec::encode(std::string_view line, std::vector<std::byte>& out) const {
    const auto* p = reinterpret_cast<const std::byte*>(line.data());
    out.insert(out.end(), p, p + line.size());
    out.push_back(std::byte{'\n'});
}

// --- length_delimited_codec ------------------------------------------------------------

length_delimited_codec::length_delimited_codec(options o) : opt_(o) {
    if (o.length_field_length < 1 || o.length_field_length > 8)
        throw std::invalid_argument("rill::io::length_delimited_codec: length_field_length must be 1..8");
}

std::optional<std::vector<std::byte>> length_delimited_codec::decode(frame_buffer& buf) {
    const std::size_t hl = opt_.length_field_length;
    std::span<const std::byte> d = buf.data();
    if (d.size() < hl) return std::nullopt;
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < hl; ++i) {
        const std::size_t k = opt_.big_endian ? i : hl - 1 - i;
        len = (len << 8) | std::to_integer<std::uint64_t>(d[k]);
    }
    if (len > opt_.max_frame_length)
        throw frame_error("rill::io::length_delimited_codec: frame of " + std::to_string(len) +
                          " bytes exceeds max_frame_length (" + std::to_string(opt_.max_frame_length) + ")");
    if (d.size() - hl < len) return std::nullopt;
    std::vector<std::byte> frame(d.begin() + static_cast<std::ptrdiff_t>(hl),
                                 d.begin() + static_cast<std::ptrdiff_t>(hl + len));
    buf.consume(hl + len);
    return frame;
}

std::optional<std::vector<std::byte>> length_delimited_codec::decode_eof(frame_buffer& buf) {
    if (auto f = decode(buf)) return f;
    if (!buf.empty())
        throw frame_error("rill::io::length_delimited_codec: stream ended inside a frame (" +
                          std::to_string(buf.size()) + " bytes left)");
    return std::nullopt;
}

void length_delimited_codec::encode(std::span<const std::byte> payload, std::vector<std::byte>& out) const {
    const std::size_t hl = opt_.length_field_length;
    const std::uint64_t len = payload.size();
    if (len > opt_.max_frame_length)
        throw frame_error("rill::io::length_delimited_codec: frame of " + std::to_string(len) +
                          " bytes exceeds max_frame_length (" + std::to_string(opt_.max_frame_length) + ")");
    if (hl < 8 && (len >> (8 * hl)) != 0)
        throw frame_error("rill::io::length_delimited_codec: frame of " + std::to_string(len) +
                          " bytes does not fit a " + std::to_string(hl) + "-byte length field");
    for (std::size_t i = 0; i < hl; ++i) {
        const std::size_t shift = opt_.big_endian ? 8 * (hl - 1 - i) : 8 * i;
        out.push_back(static_cast<std::byte>((len >> shift) & 0xff));
    }
    out.insert(out.end(), payload.begin(), payload.end());
}

}  // namespace rill::io
