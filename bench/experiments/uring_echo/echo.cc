// Standalone tcp_echo ceiling: same workload as rill/Tokio tcp_echo.
// usage: echo MODE SPLIT N [options]
//   MODE : epoll | epollc | uring
//          epoll  = ET epoll, read_exact-style loop (reads until EAGAIN, like Tokio/rill)
//          epollc = ET epoll, reads into 128-byte buffer; short read => drained, no EAGAIN read
//          uring  = io_uring, one recv/send SQE in flight per connection
//   SPLIT: same  (thread t owns client i and server end i for i%2==t)
//          cross (thread t owns clients i%2==t and server ends i%2!=t)
//   uring options (comma list as 4th arg): coop,single,defer,taskrunflag,pollfirst,fixed,link,skip
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

static constexpr int CLIENTS = 100;
static constexpr int MSG = 64;
static constexpr int CAP = 128;  // epollc read buffer
static long PER;

static void die(const char *m) { perror(m); exit(2); }

static inline void fill(uint8_t *b, int idx, long round) {
  uint64_t x = ((uint64_t)idx << 40) ^ (uint64_t)round ^ 0x9E3779B97F4A7C15ull;
  for (int k = 0; k < MSG / 8; k++) {
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    uint64_t v = x * 0x2545F4914F6CDD1Dull;
    memcpy(b + 8 * k, &v, 8);
  }
}

struct Conn {
  int fd;
  int fixed_idx;
  bool client;
  bool done = false;
  int idx;         // connection index 0..99
  long round = 0;  // client: rounds completed
  uint8_t out[MSG];
  uint8_t rbuf[CAP];
  int rlen = 0;
  int wpos = 0;
  bool wblocked = false;
};

std::atomic<long> g_verified{0};
std::atomic<long> g_bad{0};
std::atomic<long> g_server_msgs{0};
std::string g_mode, g_split;
std::string g_opts;
static bool opt(const char *o) {
  std::string s = "," + g_opts + ",";
  return s.find(std::string(",") + o + ",") != std::string::npos;
}

// ---------------- epoll ----------------
struct EpollThread {
  int ep;
  std::vector<Conn *> conns;
  int active = 0;
  long verified = 0, server_msgs = 0;
  bool drain_mode;  // epollc

  void close_conn(Conn *c) {
    close(c->fd);
    c->done = true;
    active--;
  }
  // returns false if write blocked
  bool do_write(Conn *c, const uint8_t *data) {
    while (c->wpos < MSG) {
      ssize_t w = write(c->fd, data + c->wpos, MSG - c->wpos);
      if (w > 0) { c->wpos += w; continue; }
      if (w < 0 && errno == EAGAIN) {
        c->wblocked = true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev)) die("mod");
        return false;
      }
      die("write");
    }
    c->wpos = 0;
    return true;
  }
  // a full 64-byte message is at c->rbuf. Returns false if conn closed or write blocked.
  bool on_msg(Conn *c) {
    if (c->client) {
      fill(c->out, c->idx, c->round);
      if (memcmp(c->out, c->rbuf, MSG) != 0) g_bad++;
      else verified++;
      c->round++;
      if (c->round == PER) { close_conn(c); return false; }
      fill(c->out, c->idx, c->round);
      return do_write(c, c->out);
    } else {
      server_msgs++;
      memcpy(c->out, c->rbuf, MSG);
      return do_write(c, c->out);
    }
  }
  void on_readable(Conn *c) {
    if (c->wblocked) return;
    for (;;) {
      int want = drain_mode ? CAP - c->rlen : MSG - c->rlen;
      ssize_t r = read(c->fd, c->rbuf + c->rlen, want);
      if (r > 0) {
        c->rlen += r;
        while (c->rlen >= MSG) {
          bool ok = on_msg(c);
          if (c->done) return;
          memmove(c->rbuf, c->rbuf + MSG, c->rlen - MSG);
          c->rlen -= MSG;
          if (!ok) return;  // write blocked; resume on EPOLLOUT
        }
        if (drain_mode && r < want) return;  // short read: socket drained, wait for edge
        continue;
      }
      if (r == 0) {
        if (c->client) { fprintf(stderr, "client EOF\n"); g_bad++; }
        close_conn(c);
        return;
      }
      if (errno == EAGAIN) return;
      die("read");
    }
  }
  void run() {
    for (Conn *c : conns) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLET;
      ev.data.ptr = c;
      if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev)) die("add");
      active++;
    }
    for (Conn *c : conns)
      if (c->client) { fill(c->out, c->idx, 0); do_write(c, c->out); }
    epoll_event evs[256];
    while (active > 0) {
      int n = epoll_wait(ep, evs, 256, -1);
      if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
      for (int i = 0; i < n; i++) {
        Conn *c = (Conn *)evs[i].data.ptr;
        if (c->done) continue;
        if ((evs[i].events & EPOLLOUT) && c->wblocked) {
          c->wblocked = false;
          if (!do_write(c, c->out)) continue;
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLET;
          ev.data.ptr = c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
          // data may have arrived meanwhile; also finish any buffered messages
          while (c->rlen >= MSG && !c->done) {
            bool ok = on_msg(c);
            if (c->done) break;
            memmove(c->rbuf, c->rbuf + MSG, c->rlen - MSG);
            c->rlen -= MSG;
            if (!ok) break;
          }
          if (!c->done && !c->wblocked) on_readable(c);
          continue;
        }
        on_readable(c);
      }
    }
    g_verified += verified;
    g_server_msgs += server_msgs;
  }
};

// ---------------- io_uring ----------------
enum : uint64_t { OP_RECV = 0, OP_SEND = 1 };
struct UringThread {
  io_uring ring;
  std::vector<Conn *> conns;
  int active = 0;
  long verified = 0, server_msgs = 0;
  bool pollfirst, fixed, link, skip;

  io_uring_sqe *sqe() {
    io_uring_sqe *s = io_uring_get_sqe(&ring);
    if (!s) { io_uring_submit(&ring); s = io_uring_get_sqe(&ring); }
    if (!s) die("sqe");
    return s;
  }
  int fdof(Conn *c) { return fixed ? c->fixed_idx : c->fd; }
  void prep_recv(Conn *c) {
    io_uring_sqe *s = sqe();
    io_uring_prep_recv(s, fdof(c), c->rbuf + c->rlen, MSG - c->rlen, 0);
    if (pollfirst) s->ioprio |= IORING_RECVSEND_POLL_FIRST;
    if (fixed) s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, (uint64_t)c | OP_RECV);
  }
  // send c->out from wpos; if then_recv && link, link a recv after it
  void prep_send(Conn *c, bool then_recv) {
    io_uring_sqe *s = sqe();
    io_uring_prep_send(s, fdof(c), c->out + c->wpos, MSG - c->wpos, 0);
    if (fixed) s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, (uint64_t)c | OP_SEND);
    if (link && then_recv) {
      s->flags |= IOSQE_IO_LINK;
      if (skip) s->flags |= IOSQE_CQE_SKIP_SUCCESS;
      prep_recv(c);
    }
  }
  void finish(Conn *c) {
    if (fixed) {  // drop the fixed-table reference or the socket never closes
      int m1 = -1;
      io_uring_register_files_update(&ring, c->fixed_idx, &m1, 1);
    }
    close(c->fd);
    c->done = true;
    active--;
  }
  void on_recv_done(Conn *c) {
    // full message in rbuf
    c->rlen = 0;
    if (c->client) {
      fill(c->out, c->idx, c->round);
      if (memcmp(c->out, c->rbuf, MSG) != 0) g_bad++;
      else verified++;
      c->round++;
      if (c->round == PER) { finish(c); return; }
      fill(c->out, c->idx, c->round);
    } else {
      server_msgs++;
      memcpy(c->out, c->rbuf, MSG);
    }
    c->wpos = 0;
    prep_send(c, true);
  }
  void handle(io_uring_cqe *cqe) {
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    Conn *c = (Conn *)(ud & ~1ull);
    int op = ud & 1;
    int res = cqe->res;
    if (c->done) return;
    if (op == OP_SEND) {
      if (res < 0) { fprintf(stderr, "send: %s\n", strerror(-res)); exit(2); }
      c->wpos += res;
      if (c->wpos < MSG) {
        // short send: with link the recv got -ECANCELED; resend the rest + recv
        prep_send(c, true);
        return;
      }
      c->wpos = 0;
      if (!link) prep_recv(c);
      return;
    }
    // recv
    if (res == -ECANCELED) return;  // link broken by short send; re-armed by the send path
    if (res == -EAGAIN || res == -EINTR) { prep_recv(c); return; }
    if (res < 0) { fprintf(stderr, "recv: %s\n", strerror(-res)); exit(2); }
    if (res == 0) {
      if (c->client) { fprintf(stderr, "client EOF\n"); g_bad++; }
      finish(c);
      return;
    }
    c->rlen += res;
    if (c->rlen < MSG) { prep_recv(c); return; }
    on_recv_done(c);
  }
  void run() {
    unsigned flags = 0;
    if (opt("coop")) flags |= IORING_SETUP_COOP_TASKRUN;
    if (opt("taskrunflag")) flags |= IORING_SETUP_TASKRUN_FLAG;
    if (opt("single")) flags |= IORING_SETUP_SINGLE_ISSUER;
    if (opt("defer")) flags |= IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
    io_uring_params p{};
    p.flags = flags;
    int r = io_uring_queue_init_params(512, &ring, &p);
    if (r < 0) { fprintf(stderr, "queue_init flags=%x: %s\n", flags, strerror(-r)); exit(3); }
    if (fixed) {
      std::vector<int> fds;
      for (Conn *c : conns) { c->fixed_idx = fds.size(); fds.push_back(c->fd); }
      if ((r = io_uring_register_files(&ring, fds.data(), fds.size())) < 0) {
        fprintf(stderr, "register_files: %s\n", strerror(-r)); exit(3);
      }
    }
    for (Conn *c : conns) {
      active++;
      if (c->client) { fill(c->out, c->idx, 0); c->wpos = 0; prep_send(c, true); }
      else prep_recv(c);
    }
    while (active > 0) {
      r = io_uring_submit_and_wait(&ring, 1);
      if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) { fprintf(stderr, "submit: %s\n", strerror(-r)); exit(2); }
      unsigned head, cnt = 0;
      io_uring_cqe *cqe;
      io_uring_for_each_cqe(&ring, head, cqe) {
        handle(cqe);
        cnt++;
      }
      io_uring_cq_advance(&ring, cnt);
    }
    io_uring_queue_exit(&ring);
    g_verified += verified;
    g_server_msgs += server_msgs;
  }
};

static void nodelay_nb(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) die("nodelay");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: echo epoll|epollc|uring same|cross N [opts]\n"); return 1; }
  g_mode = argv[1]; g_split = argv[2];
  long n = atol(argv[3]);
  if (argc > 4) g_opts = argv[4];
  PER = n / CLIENTS;

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(lfd, (sockaddr *)&a, sizeof a)) die("bind");
  if (listen(lfd, 1024)) die("listen");
  socklen_t al = sizeof a;
  getsockname(lfd, (sockaddr *)&a, &al);

  std::vector<Conn> cl(CLIENTS), sv(CLIENTS);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < CLIENTS; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (sockaddr *)&a, sizeof a)) die("connect");
    int s = accept(lfd, nullptr, nullptr);
    if (s < 0) die("accept");
    nodelay_nb(fd); nodelay_nb(s);
    cl[i].fd = fd; cl[i].client = true; cl[i].idx = i;
    sv[i].fd = s; sv[i].client = false; sv[i].idx = i;
  }
  bool cross = g_split == "cross";
  std::vector<std::thread> th;
  if (g_mode == "epoll" || g_mode == "epollc") {
    std::vector<EpollThread> ts(2);
    for (int t = 0; t < 2; t++) {
      ts[t].ep = epoll_create1(0);
      ts[t].drain_mode = g_mode == "epollc";
    }
    for (int i = 0; i < CLIENTS; i++) {
      ts[i % 2].conns.push_back(&cl[i]);
      ts[cross ? 1 - i % 2 : i % 2].conns.push_back(&sv[i]);
    }
    for (int t = 0; t < 2; t++) th.emplace_back([&ts, t] { ts[t].run(); });
    for (auto &x : th) x.join();
  } else {
    std::vector<UringThread> ts(2);
    for (int t = 0; t < 2; t++) {
      ts[t].pollfirst = opt("pollfirst"); ts[t].fixed = opt("fixed");
      ts[t].link = opt("link"); ts[t].skip = opt("skip");
    }
    for (int i = 0; i < CLIENTS; i++) {
      ts[i % 2].conns.push_back(&cl[i]);
      ts[cross ? 1 - i % 2 : i % 2].conns.push_back(&sv[i]);
    }
    for (int t = 0; t < 2; t++) th.emplace_back([&ts, t] { ts[t].run(); });
    for (auto &x : th) x.join();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long total = PER * CLIENTS;
  if (g_verified != total || g_bad != 0 || g_server_msgs != total) {
    fprintf(stderr, "FAIL verified=%ld bad=%ld server=%ld want=%ld\n", g_verified.load(), g_bad.load(),
            g_server_msgs.load(), total);
    return 1;
  }
  printf("bench=echo_%s_%s%s%s n=%ld secs=%.3f rate=%.0f\n", g_mode.c_str(), g_split.c_str(),
         g_opts.empty() ? "" : "_", g_opts.c_str(), total, secs, total / secs);
  return 0;
}
