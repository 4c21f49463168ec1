// Real peers that no one here wrote against rill's servers: curl (and wrk, a few
// seconds, up to 1,000 connections) against tinyhttp, python3's socket module and nc
// against echo. Servers run as separate processes (examples/tinyhttp, examples/echo),
// so the client side's sockets never count against the server's fd table.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

extern char** environ;

namespace {

#ifdef RILL_EXAMPLES_DIR
const std::string examples_dir = RILL_EXAMPLES_DIR;
#else
const std::string examples_dir;
#endif

bool have(const char* prog) {
    return std::system((std::string("command -v ") + prog + " >/dev/null 2>&1").c_str()) == 0;
}

/// Runs a shell command, returns its stdout (bounded by `timeout`).
std::string sh(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(("timeout 60 " + cmd).c_str(), "r");
    if (p == nullptr) return out;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    ::pclose(p);
    return out;
}

/// A server process; reads "...listening on 127.0.0.1:PORT" from the given stream.
class server_process {
public:
    server_process(std::vector<std::string> argv, bool port_on_stderr) {
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], port_on_stderr ? 2 : 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&fa);
        ::close(fds[1]);
        FILE* f = ::fdopen(fds[0], "r");
        char line[256];
        const std::regex re(".*listening on 127\\.0\\.0\\.1:([0-9]+).*");
        while (pid_ > 0 && std::fgets(line, sizeof line, f) != nullptr) {
            std::cmatch m;
            line[std::strcspn(line, "\r\n")] = '\0';
            if (std::regex_match(line, m, re)) {
                port_ = std::stoi(m[1].str());
                break;
            }
        }
        out_ = f;  // keep the pipe open so the server never gets EPIPE on its output
    }
    ~server_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
        if (out_) std::fclose(out_);
    }
    int port() const { return port_; }
    /// True while the process has not exited.
    bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    FILE* out_ = nullptr;
};

#define REQUIRE_EXAMPLES()                                                                  \
    if (examples_dir.empty()) GTEST_SKIP() << "examples are not built (RILL_BUILD_EXAMPLES=OFF)"

TEST(net_peers, curl_against_tinyhttp_keep_alive) {
    REQUIRE_EXAMPLES();
    if (!have("curl")) GTEST_SKIP() << "curl is not installed";
    server_process srv({examples_dir + "/tinyhttp", "--port", "0", "--threads", "1"}, true);
    ASSERT_GT(srv.port(), 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/";
    // Two requests on one connection: curl reports reusing it.
    const std::string out = sh("curl -sS -v " + url + " " + url + " 2>&1");
    EXPECT_NE(out.find("< HTTP/1.1 200 OK"), std::string::npos) << out;
    EXPECT_NE(out.find("< Content-Length: 13"), std::string::npos) << out;
    EXPECT_NE(out.find("< Content-Type: text/plain"), std::string::npos) << out;
    EXPECT_NE(out.find("< Date: "), std::string::npos) << out;
    std::size_t bodies = 0;
    for (std::size_t at = 0; (at = out.find("Hello, World!", at)) != std::string::npos; at += 13) ++bodies;
    EXPECT_EQ(bodies, 2u) << out;
    EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;
    // Connection: close is honoured.
    const std::string closed = sh("curl -sS -H 'Connection: close' " + url);
    EXPECT_EQ(closed, "Hello, World!");
    EXPECT_TRUE(srv.alive());
}

TEST(net_peers, wrk_against_tinyhttp_plain_and_pipelined_without_errors) {
    REQUIRE_EXAMPLES();
    if (!have("wrk")) GTEST_SKIP() << "wrk is not installed";
    server_process srv({examples_dir + "/tinyhttp", "--port", "0", "--threads", "2"}, true);
    ASSERT_GT(srv.port(), 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/";
    for (const char* conns : {"50", "1000"}) {
        const std::string out = sh(std::string("wrk -t1 -c") + conns + " -d2s " + url + " 2>&1");
        EXPECT_NE(out.find("requests in"), std::string::npos) << out;
        EXPECT_EQ(out.find("Socket errors"), std::string::npos) << out;
        EXPECT_EQ(out.find("Non-2xx"), std::string::npos) << out;
    }
    // Pipelined: 16 requests per write (a wrk script written here).
    char script[] = "/tmp/rill_pipeline_XXXXXX";
    const int fd = ::mkstemp(script);
    ASSERT_GE(fd, 0);
    const std::string lua =
        "init = function(args)\n"
        "  local r = {}\n"
        "  for i = 1, 16 do r[i] = wrk.format(nil) end\n"
        "  req = table.concat(r)\n"
        "end\n"
        "request = function() return req end\n";
    ASSERT_EQ(::write(fd, lua.data(), lua.size()), static_cast<ssize_t>(lua.size()));
    ::close(fd);
    const std::string out = sh(std::string("wrk -t1 -c100 -d2s -s ") + script + " " + url + " 2>&1");
    ::unlink(script);
    EXPECT_NE(out.find("requests in"), std::string::npos) << out;
    EXPECT_EQ(out.find("Socket errors"), std::string::npos) << out;
    EXPECT_EQ(out.find("Non-2xx"), std::string::npos) << out;
    EXPECT_TRUE(srv.alive());
}

TEST(net_peers, python_and_nc_against_echo) {
    REQUIRE_EXAMPLES();
    server_process srv({examples_dir + "/echo", "server", "0"}, false);
    ASSERT_GT(srv.port(), 0);
    const std::string port = std::to_string(srv.port());
    if (have("python3")) {
        // Several connections; one of them resets (SO_LINGER 0) mid-stream; the others
        // still get their bytes back.
        const std::string py =
            "import socket, struct\n"
            "bad = socket.create_connection(('127.0.0.1', " + port + "))\n"
            "bad.sendall(b'x' * 1000)\n"
            "bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
            "bad.close()\n"
            "ok = 0\n"
            "for i in range(20):\n"
            "    s = socket.create_connection(('127.0.0.1', " + port + "))\n"
            "    msg = bytes([65 + i % 26]) * (1 + i * 5000)\n"
            "    s.sendall(msg)\n"
            "    s.shutdown(socket.SHUT_WR)\n"
            "    got = b''\n"
            "    while True:\n"
            "        d = s.recv(65536)\n"
            "        if not d: break\n"
            "        got += d\n"
            "    ok += got == msg\n"
            "    s.close()\n"
            "print('ok', ok)\n";
        EXPECT_EQ(sh("python3 -c \"" + py + "\""), "ok 20\n");
    }
    if (have("nc")) {
        EXPECT_EQ(sh("printf 'hello from nc\\n' | nc -q1 127.0.0.1 " + port), "hello from nc\n");
    }
    EXPECT_TRUE(srv.alive());
}

}  // namespace
