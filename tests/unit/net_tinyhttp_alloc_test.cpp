// tinyhttp's keep-alive loop allocates nothing per request once warm: global operator
// new is replaced by a counting one, and warm requests (plain and pipelined) must not
// move the count. Also checks the answers themselves.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "../../examples/chapters/tinyhttp.hpp"
#include "support/rt.hpp"  // RILL_TEST_TSAN

namespace {
std::atomic<std::uint64_t> g_news{0};
}  // namespace

#if defined(RILL_TEST_TSAN)
// TSan's runtime owns operator new (it cannot be replaced in a TSan binary): count every
// heap allocation through its hook instead (a superset of operator new calls).
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*, std::size_t),
                                                          void (*)(const volatile void*));
namespace {
void on_malloc(const volatile void*, std::size_t) { g_news.fetch_add(1, std::memory_order_relaxed); }
void on_free(const volatile void*) {}
[[maybe_unused]] const int g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free);
}  // namespace
#else
void* operator new(std::size_t n) {
    g_news.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    g_news.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

namespace th = chapters::tinyhttp;

constexpr std::string_view request = "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n";

// The request bytes live outside the coroutine frame: this test's own frame must stay
// small enough for rill's frame allocator on every compiler (a large one falls back to
// operator new once per call, which the count would see).
char req[16 * request.size()];

rill::task<void> requests(rill::net::tcp_stream& c, int depth, int rounds, char* buf, std::size_t cap) {
    for (int i = 0; i < depth; ++i) std::memcpy(req + i * request.size(), request.data(), request.size());
    const std::size_t want = static_cast<std::size_t>(depth) * th::response_len;
    for (int r = 0; r < rounds; ++r) {
        co_await c.write_all(std::string_view(req, static_cast<std::size_t>(depth) * request.size()));
        if (want > cap) throw std::logic_error("buffer too small");
        co_await c.read_exact(std::span(buf, want));
    }
}

rill::task<void> scenario(std::uint64_t* plain, std::uint64_t* pipelined) {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    auto server = rill::spawn(th::serve(l));
    rill::net::tcp_stream c = co_await rill::net::tcp_stream::connect(l.local_addr());
    static char buf[16 * th::response_len];
    co_await requests(c, 1, 200, buf, sizeof buf);  // warm up
    EXPECT_EQ(std::string_view(buf, 15), "HTTP/1.1 200 OK");
    EXPECT_EQ(std::string_view(buf + th::response_len - 13, 13), "Hello, World!");
    std::uint64_t before = g_news.load();
    co_await requests(c, 1, 2000, buf, sizeof buf);
    *plain = g_news.load() - before;
    co_await requests(c, 16, 50, buf, sizeof buf);  // warm up pipelining
    before = g_news.load();
    co_await requests(c, 16, 500, buf, sizeof buf);
    *pipelined = g_news.load() - before;
    for (int i = 0; i < 16; ++i)
        EXPECT_EQ(std::string_view(buf + i * th::response_len + th::response_len - 13, 13), "Hello, World!");
    server.abort();
}

TEST(net_tinyhttp, warm_keep_alive_requests_allocate_nothing) {
    std::uint64_t plain = 1, pipelined = 1;
    {
        auto rt = rill::builder::new_current_thread().enable_all().build();
        rt.block_on(scenario(&plain, &pipelined));
    }
    EXPECT_GT(g_news.load(), 0u) << "the counting operator new is not in use";
    EXPECT_EQ(plain, 0u) << "operator new calls over 2000 warm keep-alive requests";
    EXPECT_EQ(pipelined, 0u) << "operator new calls over 500 warm batches of 16 pipelined requests";
}

}  // namespace
