// accept at a full fd table: the listener backs off (no spinning, no crash), reports,
// and accepts the queued connection once descriptors are freed.
//
// This binary holds this one test only: it lowers its own RLIMIT_NOFILE soft limit
// (the hard cap here is 20000) before building a runtime, then fills the table.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <vector>

#include "rill/net/tcp_listener.hpp"
#include "rill/net/tcp_stream.hpp"
#include "rill/rill.hpp"

namespace {

using namespace std::chrono_literals;

rill::task<void> fill_then_free(rill::net::tcp_listener* l, std::vector<int>* filler, std::uint64_t* backoffs_seen,
                                bool* accepted) {
    // Wait until accept has hit EMFILE and backed off a few times.
    for (int i = 0; i < 2000 && l->accept_backoffs() < 4; ++i) co_await rill::time::sleep(1ms);
    *backoffs_seen = l->accept_backoffs();
    // Spinning would retry accept millions of times in this window; backing off doubles.
    co_await rill::time::sleep(100ms);
    EXPECT_LT(l->accept_backoffs(), *backoffs_seen + 20) << "accept is spinning";
    EXPECT_FALSE(*accepted);
    for (int fd : *filler) ::close(fd);
    filler->clear();
}

rill::task<void> accept_one(rill::net::tcp_listener* l, bool* accepted) {
    rill::net::tcp_accepted a = co_await l->accept();
    *accepted = true;
    std::array<std::byte, 4> buf{};
    co_await a.stream.read_exact(buf);
    co_await a.stream.write_all(buf);
}

rill::task<void> scenario() {
    rill::net::tcp_listener l = rill::net::tcp_listener::bind("127.0.0.1:0");
    // The client connects first (its fd exists before the table is full); the kernel
    // completes the handshake into the listen backlog.
    rill::net::tcp_stream c = co_await rill::net::tcp_stream::connect(l.local_addr());
    std::vector<int> filler;
    for (;;) {
        const int fd = ::dup(0);
        if (fd < 0) {
            EXPECT_EQ(errno, EMFILE);
            break;
        }
        filler.push_back(fd);
    }
    EXPECT_FALSE(filler.empty());
    bool accepted = false;
    std::uint64_t seen = 0;
    auto server = rill::spawn(accept_one(&l, &accepted));
    co_await fill_then_free(&l, &filler, &seen, &accepted);
    EXPECT_GE(seen, 4u);
    co_await c.write_all("ping");
    std::array<char, 4> back{};
    co_await c.read_exact(back);
    EXPECT_EQ(std::string(back.data(), 4), "ping");
    co_await server;
    EXPECT_TRUE(accepted);
}

TEST(net_emfile, accept_backs_off_at_a_full_fd_table_and_recovers) {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    const rlimit low{128, lim.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    {
        auto rt = rill::builder::new_current_thread().enable_all().build();
        rt.block_on(scenario());
    }
    ::setrlimit(RLIMIT_NOFILE, &lim);
}

}  // namespace
