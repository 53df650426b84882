// examples/chat run as a process: three clients see each other's lines (and
// not their own), a line over --max_line gets an error line and the
// connection closed while the others carry on, and SIGTERM says goodbye to
// every client, closes them and exits 0.
//
// Plain blocking sockets with poll() on the client side: the server is the
// code under test. Every wait is bounded by kPatience, which only a stall
// exceeds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

extern char** environ;

namespace {

constexpr int kPatience = 30'000;  // ms: anything that must happen does so well within this

// Lines from an fd, read with poll() bounded by kPatience: the line without
// its '\n', "<eof>" (closed or reset), or "<timeout>".
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  std::string next() {
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, kPatience);
      if (r == 0) return "<timeout>";
      REQUIRE(r == 1);
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return "<eof>";
      REQUIRE(n > 0);
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  // Skips lines until one equals `want`; returns it, or what ended the
  // search ("<eof>", "<timeout>"). `skipped` collects the lines passed over.
  std::string until(const std::string& want, std::vector<std::string>* skipped = nullptr) {
    for (;;) {
      std::string line = next();
      if (line == want || line == "<eof>" || line == "<timeout>") return line;
      if (skipped) skipped->push_back(line);
    }
  }

 private:
  int fd_;
  std::string buf_;
};

class ChatProcess {
 public:
  explicit ChatProcess(std::vector<std::string> args) {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    const std::string binary = "examples/chat";
    args.insert(args.begin(), {binary, "--port=0"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int err = ::posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_ = out[0];
    REQUIRE(err == 0);
    LineReader stdout_lines(out_);
    const std::string line = stdout_lines.next();  // "chat listening on 127.0.0.1:PORT"
    INFO("first line: " << line);
    const size_t colon = line.rfind(':');
    REQUIRE(line.rfind("chat listening on ", 0) == 0);
    REQUIRE(colon != std::string::npos);
    port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    REQUIRE(port_ != 0);
  }
  ~ChatProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }
  uint16_t port() const { return port_; }
  int signal_and_wait(int sig) {
    REQUIRE(::kill(pid_, sig) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  uint16_t port_ = 0;
};

// A connected client that has read its welcome (so it is in the room and
// gets every line sent from now on). `name` is its address as the server
// writes it.
struct Client {
  int fd = -1;
  std::string name;
  LineReader lines{-1};

  explicit Client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0);
    name = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
    lines = LineReader(fd);
    REQUIRE(lines.next() == "* welcome, you are " + name);
  }
  Client(const Client&) = delete;
  ~Client() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void send(const std::string& s) {
    REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
  }
};

}  // namespace

TEST_CASE("chat: clients see each other's lines; an over-long line closes only its sender; "
          "SIGTERM closes everyone and exits 0",
          "[examples]") {
  ChatProcess chat({"--max_line=64", "--drain_timeout=10s"});
  Client a(chat.port()), b(chat.port()), c(chat.port());

  a.send("hello from a\n");
  b.send("hello from b\r\n");  // "\r\n" line ends work too
  c.send("hello from c\n");
  // Each sees the two others' lines (in some order, between join notices),
  // never its own.
  for (Client* me : {&a, &b, &c}) {
    INFO("client " << me->name);
    int others = 0;
    std::vector<std::string> seen;
    while (others < 2) {
      const std::string line = me->lines.next();
      REQUIRE(line != "<eof>");
      REQUIRE(line != "<timeout>");
      CHECK(line.rfind(me->name + ":", 0) != 0);  // not our own
      for (Client* other : {&a, &b, &c}) {
        if (other != me) {
          const std::string who = other == &a ? "a" : other == &b ? "b" : "c";
          if (line == other->name + ": hello from " + who) ++others;
        }
      }
      seen.push_back(line);
    }
  }

  // c sends a line over the limit: an error line, then its connection ends.
  c.send(std::string(200, 'x') + "\n");
  CHECK(c.lines.until("* error: line longer than 64 bytes, closing") ==
        "* error: line longer than 64 bytes, closing");
  CHECK(c.lines.until("<never>") == "<eof>");
  // A line of exactly the limit (newline included) is fine.
  const std::string longest(63, 'y');
  a.send(longest + "\n");
  CHECK(b.lines.until(a.name + ": " + longest) == a.name + ": " + longest);

  // c leaves; a and b do not notice beyond the notice.
  c.close();
  CHECK(a.lines.until("* " + c.name + " left") == "* " + c.name + " left");
  b.send("still here\n");
  CHECK(a.lines.until(b.name + ": still here") == b.name + ": still here");

  // SIGTERM: every client is told and closed, and the server exits 0 well
  // before --drain_timeout would cut anyone.
  const int status = chat.signal_and_wait(SIGTERM);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (Client* me : {&a, &b}) {
    INFO("client " << me->name);
    CHECK(me->lines.until("* server shutting down") == "* server shutting down");
    CHECK(me->lines.until("<never>") == "<eof>");
  }
}

TEST_CASE("chat: a client too slow to read is told how many messages it missed",
          "[examples]") {
  ChatProcess chat({"--backlog=4", "--max_line=2000"});
  Client slow(chat.port()), talker(chat.port());
  // The server keeps 4 messages for slow; its writer waits on slow's socket
  // once the kernel buffers are full, so send far more than they hold.
  // Lines of ~1 KiB; 16384 of them (16 MiB) are more than loopback's
  // socket buffers hold at their largest (tcp_rmem + tcp_wmem: 10 MiB).
  const std::string line(1000, 'z');
  for (int i = 0; i < 16384; ++i) talker.send(line + "\n");
  // Now slow reads: before the 16384th line it must be told it missed some.
  for (;;) {
    const std::string got = slow.lines.next();
    REQUIRE(got != "<eof>");
    REQUIRE(got != "<timeout>");
    if (got.rfind("* you missed ", 0) == 0) {
      CHECK(got.size() > std::string("* you missed  messages").size());
      break;
    }
  }
  const int status = chat.signal_and_wait(SIGTERM);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("chat: SIGINT with no clients exits 0", "[examples]") {
  ChatProcess chat({});
  const int status = chat.signal_and_wait(SIGINT);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
