// rill::io's error category.
#include "rill/io/error.hpp"

namespace rill::io {

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "rill::io"; }
    std::string message(int c) const override {
        switch (static_cast<errc>(c)) {
            case errc::unexpected_eof: return "unexpected end of stream";
            case errc::write_zero: return "write accepted zero bytes";
        }
        return "unknown rill::io error";
    }
};

}  // namespace

const std::error_category& io_category() noexcept {
    static const category c;
    return c;
}

void throw_io_error(errc e, const char* what) {
    if (e == errc::unexpected_eof) throw unexpected_eof(what);
    throw std::system_error(make_error_code(e), what);
}

}  // namespace rill::io
