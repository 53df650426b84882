// rtt_server_std: the std baseline of BENCH.md's idle_rtt workload, a
// thread-per-connection echo server on blocking sockets (no runtime at all),
// measured by rtt_client.cc like rtt_server.cc and its Rust peers
// (benches/rtt_bench.sh).
//
// Usage: rtt_server_std [--port P] [--threads N] [--neighbours 0]
//
// --threads is accepted so every server takes the same command line; a
// thread-per-connection server has no pool, so it only labels the run.
// busy_rtt has no std peer: --neighbours must be 0.
//
// Threads: one accepting thread, one thread per connection doing blocking
// read/write (TCP_NODELAY), and this thread, which waits for SIGINT/SIGTERM.
// Output: "port=NNNN" on stdout once the listener accepts (--port 0 picks a
// free port). On the signal: shutdown(2) of the listener wakes the accepting
// thread, shutdown(2) of every connection wakes its thread (it reads end of
// stream), all are joined, and the process exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "benches/rtt_common.h"

namespace weft_bench {
namespace {

constexpr int kDefaultThreads = 2;
// A connection's read buffer, as rtt_server.cc's.
constexpr size_t kEchoBuffer = 16 * 1024;
// listen(2)'s backlog: the benchmark opens one connection at a time.
constexpr int kBacklog = 64;
// How long the accepting thread pauses when the process is out of fds.
constexpr auto kOutOfFdsBackoff = std::chrono::milliseconds(100);

constexpr const char* kUsage = "[--port P] [--threads N] [--neighbours 0]";

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "rtt_server_std: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Echoes until the client closes or the connection is shut down. Does not
// close `fd`: the thread that joins this one does.
void echo(int fd) {
  char buf[kEchoBuffer];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return;  // the client closed, or shutdown at exit
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "rtt_server_std: read: %s\n", std::strerror(errno));
      return;
    }
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t w = ::send(fd, buf + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        std::fprintf(stderr, "rtt_server_std: write: %s\n", std::strerror(errno));
        return;
      }
      sent += w;
    }
  }
}

struct Connection {
  int fd;
  std::thread thread;
};

class ThreadPerConnectionServer {
 public:
  explicit ThreadPerConnectionServer(int listen_fd) : listen_fd_(listen_fd) {
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  // Wakes and joins every thread, closes every fd.
  ~ThreadPerConnectionServer() {
    // relaxed: the accepting thread reads it after its accept fails, which
    // the shutdown below causes; nothing is published through it.
    stopping_.store(true, std::memory_order_relaxed);
    ::shutdown(listen_fd_, SHUT_RDWR);  // accept() fails with EINVAL
    acceptor_.join();
    // The accepting thread is gone: no one else touches connections_ now.
    for (Connection& c : connections_) ::shutdown(c.fd, SHUT_RDWR);
    for (Connection& c : connections_) {
      c.thread.join();
      ::close(c.fd);
    }
    ::close(listen_fd_);
  }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_.load(std::memory_order_relaxed)) return;
        std::fprintf(stderr, "rtt_server_std: accept: %s\n", std::strerror(errno));
        if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(kOutOfFdsBackoff);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      connections_.push_back({fd, std::thread(echo, fd)});
    }
  }

  const int listen_fd_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  // Written by the accepting thread only; read by the destructor after
  // joining it.
  std::vector<Connection> connections_;
};

int main_impl(int argc, char** argv) {
  int port = 0;
  int threads = kDefaultThreads;
  int neighbours = 0;
  parse_flags(argc, argv, kUsage,
              {{"--port", &port, 0, 65535},
               {"--threads", &threads, 1, 1024},
               {"--neighbours", &neighbours, 0, 0}});

  const sigset_t stop_signals = block_stop_signals();  // before any thread starts

  const int lis = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lis < 0) die("socket");
  int one = 1;
  ::setsockopt(lis, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(lis, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  if (::listen(lis, kBacklog) != 0) die("listen");
  socklen_t len = sizeof a;
  if (::getsockname(lis, reinterpret_cast<sockaddr*>(&a), &len) != 0) die("getsockname");

  {
    ThreadPerConnectionServer server(lis);
    std::printf("port=%u\n", static_cast<unsigned>(ntohs(a.sin_port)));
    std::fflush(stdout);
    const int signo = wait_for_stop_signal(stop_signals);
    std::fprintf(stderr, "rtt_server_std: got %s, stopping\n", ::strsignal(signo));
  }
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
