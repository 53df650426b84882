// The example servers (examples/echo_server, examples/http_hello) run as
// processes: an idle client is disconnected after --idle_timeout, at most
// --max_connections are served at once, and SIGTERM makes them exit 0
// (closing open connections after --drain_timeout).
//
// Plain blocking sockets with poll() on the client side: the servers are the
// code under test. Waits that must end are bounded generously (kPatience);
// the one check that something does NOT happen waits kQuiet.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kPatience = 30'000;  // ms: anything that must happen does so well within this
constexpr int kQuiet = 500;        // ms: how long "nothing arrives" is watched

// One example server, started with --port 0; its port is read from the
// "listening on HOST:PORT" line it prints.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, std::vector<std::string> args) {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    args.insert(args.begin(), {binary, "--port=0"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int err = ::posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_ = out[0];
    REQUIRE(err == 0);
    const std::string line = read_line();
    INFO("first line: " << line);
    const size_t colon = line.rfind(':');
    REQUIRE(colon != std::string::npos);
    port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    REQUIRE(port_ != 0);
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }

  uint16_t port() const { return port_; }
  // The next line the server prints on stdout (without its '\n').
  std::string next_line() { return read_line(); }

  // Sends `sig` and returns the wait status once the process has exited.
  int signal_and_wait(int sig) {
    REQUIRE(::kill(pid_, sig) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
  }

 private:
  std::string read_line() {
    std::string line;
    char c;
    for (;;) {
      pollfd p{out_, POLLIN, 0};
      REQUIRE(::poll(&p, 1, kPatience) == 1);
      REQUIRE(::read(out_, &c, 1) == 1);
      if (c == '\n') return line;
      line += c;
    }
  }

  pid_t pid_ = -1;
  int out_ = -1;
  uint16_t port_ = 0;
};

struct Fd {
  int fd;
  ~Fd() { if (fd >= 0) ::close(fd); }
};

int connect_to(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

void send_all(int fd, const std::string& s) {
  REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
}

// What one recv() returns within `ms`: the bytes, "<eof>" (closed, or reset
// by the server), or "<nothing>" (the time passed).
std::string recv_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  const int r = ::poll(&p, 1, ms);
  REQUIRE(r >= 0);
  if (r == 0) return "<nothing>";
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno == ECONNRESET)) return "<eof>";
  REQUIRE(n > 0);
  return std::string(buf, static_cast<size_t>(n));
}

// Reads until `want` bytes came (or EOF / kPatience).
std::string recv_n(int fd, size_t want) {
  std::string got;
  while (got.size() < want) {
    std::string part = recv_within(fd, kPatience);
    if (part == "<eof>" || part == "<nothing>") return got + part;
    got += part;
  }
  return got;
}

// Each server with one request and the reply it must produce.
struct Example {
  std::string binary;
  std::string request;
  std::string reply;
};

Example example(const std::string& name) {
  if (name == "echo_server") return {"examples/echo_server", "ping", "ping"};
  return {"examples/http_hello", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"};
}

TEST_CASE("an idle client is disconnected after --idle_timeout, not before", "[examples]") {
  const Example ex = example(GENERATE(as<std::string>{}, "echo_server", "http_hello"));
  INFO(ex.binary);
  ServerProcess server(ex.binary, {"--idle_timeout=200ms"});
  // Before connect: the server can only start this connection's clock once
  // the handshake is under way. (Taken after connect, t0 could be later
  // than the server's accept: the client thread may be preempted on its
  // way out of connect; seen once, 199.2 ms.)
  const auto t0 = Clock::now();
  Fd idle{connect_to(server.port())};
  CHECK(recv_within(idle.fd, kPatience) == "<eof>");
  CHECK(Clock::now() - t0 >= milliseconds(200));

  // A client that keeps talking is still served (the limit is per silence).
  Fd busy{connect_to(server.port())};
  for (int i = 0; i < 3; ++i) {
    send_all(busy.fd, ex.request);
    CHECK(recv_n(busy.fd, ex.reply.size()) == ex.reply);
  }
  CHECK(WIFEXITED(server.signal_and_wait(SIGTERM)));
}

TEST_CASE("http_hello: a request trickled in byte by byte gets --idle_timeout in all",
          "[examples]") {
  ServerProcess server("examples/http_hello", {"--idle_timeout=500ms"});
  Fd slow{connect_to(server.port())};
  const std::string head = "GET / HTTP/1.1\r\nX-Pad: ";
  send_all(slow.fd, head);
  // One more header byte every 100 ms (the poll is the pace), never ending
  // the head: each read brings a byte, so only a per-request deadline ends it.
  std::string seen = "<nothing>";
  const auto t0 = Clock::now();
  for (int i = 0; i < kPatience / 100 && seen == "<nothing>"; ++i) {
    if (::send(slow.fd, "a", 1, MSG_NOSIGNAL) != 1) break;  // reset: the server closed
    seen = recv_within(slow.fd, 100);
  }
  if (seen == "<nothing>") seen = recv_within(slow.fd, kPatience);
  CHECK(seen == "<eof>");
  CHECK(Clock::now() - t0 < milliseconds(kPatience));
  CHECK(WIFEXITED(server.signal_and_wait(SIGTERM)));
}

TEST_CASE("--max_connections: the next client is served only once a slot frees",
          "[examples]") {
  const Example ex = example(GENERATE(as<std::string>{}, "echo_server", "http_hello"));
  INFO(ex.binary);
  ServerProcess server(ex.binary, {"--max_connections=2", "--idle_timeout=inf", "--drain_timeout=100ms"});
  std::vector<int> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(connect_to(server.port()));
    send_all(open.back(), ex.request);
    REQUIRE(recv_n(open.back(), ex.reply.size()) == ex.reply);  // served: holds a slot
  }
  // The third connects (the kernel's backlog takes it) but is not served...
  Fd third{connect_to(server.port())};
  send_all(third.fd, ex.request);
  CHECK(recv_within(third.fd, kQuiet) == "<nothing>");
  // ...until one of the first two leaves.
  ::close(open[0]);
  CHECK(recv_n(third.fd, ex.reply.size()) == ex.reply);
  ::close(open[1]);
  CHECK(WIFEXITED(server.signal_and_wait(SIGTERM)));
}

TEST_CASE("SIGTERM: stop accepting, close what is open after --drain_timeout, exit 0",
          "[examples]") {
  const Example ex = example(GENERATE(as<std::string>{}, "echo_server", "http_hello"));
  INFO(ex.binary);
  SECTION("no connections") {
    ServerProcess server(ex.binary, {});
    const int status = server.signal_and_wait(SIGTERM);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  SECTION("an open, idle connection is closed and the server still exits 0") {
    ServerProcess server(ex.binary, {"--drain_timeout=100ms", "--idle_timeout=inf"});
    Fd client{connect_to(server.port())};
    send_all(client.fd, ex.request);
    REQUIRE(recv_n(client.fd, ex.reply.size()) == ex.reply);
    const int status = server.signal_and_wait(SIGTERM);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(recv_within(client.fd, kPatience) == "<eof>");
  }
  SECTION("SIGINT too") {
    ServerProcess server(ex.binary, {});
    const int status = server.signal_and_wait(SIGINT);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

TEST_CASE("out-of-range limits are refused with exit status 2", "[examples]") {
  const Example ex = example(GENERATE(as<std::string>{}, "echo_server", "http_hello"));
  for (const char* bad : {"--max_connections=0", "--idle_timeout=0s", "--drain_timeout=-1s"}) {
    INFO(ex.binary << " " << bad);
    pid_t pid;
    std::vector<std::string> args{ex.binary, "--port=0", bad};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid, ex.binary.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
  }
}

}  // namespace

TEST_CASE("http_hello --mode=tpc: per-worker reuseport listeners serve, drain and exit 0",
          "[examples][tpc]") {
  const Example ex = example("http_hello");
  ServerProcess server(ex.binary, {"--mode=tpc", "--threads=2", "--drain_timeout=100ms",
                                   "--idle_timeout=inf"});
  // Many connections: the kernel spreads them over both workers' listeners,
  // and every one is served.
  std::vector<int> open;
  for (int i = 0; i < 16; ++i) {
    open.push_back(connect_to(server.port()));
    send_all(open.back(), ex.request);
    REQUIRE(recv_n(open.back(), ex.reply.size()) == ex.reply);
  }
  const int status = server.signal_and_wait(SIGTERM);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int fd : open) {
    CHECK(recv_within(fd, kPatience) == "<eof>");  // drained: closed by the server
    ::close(fd);
  }
}

TEST_CASE("http_hello: an unknown --mode is refused with exit status 2", "[examples]") {
  pid_t pid;
  std::vector<std::string> args{"examples/http_hello", "--port=0", "--mode=fast"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  REQUIRE(::posix_spawn(&pid, args[0].c_str(), nullptr, nullptr, argv.data(), environ) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
}

// http_hello reads requests through a BufReader (issue #12): whole requests
// are framed in its buffer, a head split across reads is finished line by
// line. Both paths keep the framing: pipelining, bodies, the head limit.
TEST_CASE("http_hello: pipelined requests, heads and bodies split across reads, head limit",
          "[examples][http]") {
  const Example ex = example("http_hello");
  const std::string ok = ex.reply;
  ServerProcess server(ex.binary, {"--idle_timeout=inf"});

  SECTION("pipelined: three requests in one write, three responses in order") {
    Fd c{connect_to(server.port())};
    send_all(c.fd, ex.request + "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + ex.request);
    CHECK(recv_n(c.fd, 3 * ok.size()) == ok + ok + ok);
  }
  SECTION("a head split across reads is answered once it is complete") {
    Fd c{connect_to(server.port())};
    for (const std::string part : {"GET / HT", "TP/1.1\r\nHo", "st: x\r", "\n\r"}) {
      send_all(c.fd, part);
      CHECK(recv_within(c.fd, 100) == "<nothing>");  // incomplete: no answer yet
    }
    send_all(c.fd, "\n" + ex.request);  // the end of the head, and one more request
    CHECK(recv_n(c.fd, 2 * ok.size()) == ok + ok);
  }
  SECTION("a body split across reads is skipped, the next request answered") {
    Fd c{connect_to(server.port())};
    send_all(c.fd, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(recv_n(c.fd, ok.size()) == ok);
    send_all(c.fd, "defghij" + ex.request);
    CHECK(recv_n(c.fd, ok.size()) == ok);
    CHECK(recv_within(c.fd, 100) == "<nothing>");  // the body was not taken for a request
  }
  SECTION("a bad request line, split across reads, gets 400 and the connection closes") {
    Fd c{connect_to(server.port())};
    send_all(c.fd, "NONSENSE\r\n");
    CHECK(recv_within(c.fd, 100) == "<nothing>");
    send_all(c.fd, "\r\n");
    const std::string bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    CHECK(recv_n(c.fd, bad.size() + 1) == bad + "<eof>");
  }
  SECTION("a head over 16 KiB gets 431 and the connection closes; one just under is served") {
    const std::string too_large =
        "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    for (bool in_pieces : {false, true}) {
      INFO("in pieces: " << in_pieces);
      Fd c{connect_to(server.port())};
      const std::string head = "GET / HTTP/1.1\r\nX-Pad: " + std::string(17 * 1024, 'a') + "\r\n\r\n";
      if (in_pieces) {
        for (size_t at = 0; at < head.size(); at += 1000) {
          if (::send(c.fd, head.data() + at, std::min<size_t>(1000, head.size() - at),
                     MSG_NOSIGNAL) < 0) {
            break;  // reset: the server closed already
          }
        }
      } else {
        ::send(c.fd, head.data(), head.size(), MSG_NOSIGNAL);
      }
      CHECK(recv_n(c.fd, too_large.size()) == too_large);
      CHECK(recv_within(c.fd, kPatience) == "<eof>");
    }
    // 16 KiB in all, blank line included: the limit itself is fine.
    const std::string prefix = "GET / HTTP/1.1\r\nX-Pad: ";
    const std::string fits =
        prefix + std::string(16 * 1024 - prefix.size() - 4, 'b') + "\r\n\r\n";
    REQUIRE(fits.size() == 16 * 1024);
    Fd c{connect_to(server.port())};
    send_all(c.fd, fits.substr(0, 100));
    CHECK(recv_within(c.fd, 100) == "<nothing>");
    send_all(c.fd, fits.substr(100));
    CHECK(recv_n(c.fd, ok.size()) == ok);
  }
  CHECK(WIFEXITED(server.signal_and_wait(SIGTERM)));
}

TEST_CASE("echo_server --stats prints the executor's, reactor's and blocking pool's metrics every second", "[examples]") {
  ServerProcess server("examples/echo_server", {"--stats"});
  const std::string line = server.next_line();
  INFO(line);
  CHECK(line.rfind("stats global: ", 0) == 0);
  CHECK(line.find(" live tasks, ") != std::string::npos);
  CHECK(line.find(" polls, ") != std::string::npos);
  // The reactor's line: the listener waiting in accept is registered.
  const std::string reactor = server.next_line();
  INFO(reactor);
  CHECK(reactor.rfind("stats reactor: ", 0) == 0);
  CHECK(reactor.rfind("stats reactor: 0 fds", 0) != 0);
  CHECK(reactor.find(" timers pending ") != std::string::npos);
  const std::string pool = server.next_line();
  INFO(pool);
  CHECK(pool.rfind("stats blocking pool: ", 0) == 0);
  const int status = server.signal_and_wait(SIGTERM);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
