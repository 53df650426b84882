// examples::accept_loop (examples/accept_loop.h), the accept loop of
// echo_server, chat and http_hello: one handler call per connection with
// its peer, nothing accepted past the connection limit, a closed listener
// ends the loop, and running out of fds does not.
//
// Its own binary: the last case lowers RLIMIT_NOFILE and redirects stderr
// for the whole process while it runs.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "examples/accept_loop.h"
#include "net_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::SocketAddress;
using weft::Task;
using weft::TcpListener;
using weft::TcpStream;

namespace {

// A generous liveness bound: a stall this long fails the test, scheduler
// noise does not.
constexpr auto kLiveness = 20s;

// What the handlers saw. on_accept runs on the accept loop's task, the
// connection tasks on the global executor's workers.
struct Seen {
  std::mutex mu;
  std::vector<SocketAddress> peers;    // guarded by mu, in accept order
  std::vector<int> active_at_accept;   // guarded by mu: `active` when each was accepted
  // Connections being served. Incremented and decremented by the connection
  // tasks (acq_rel), loaded by on_accept (acquire): a connection that ended
  // released its slot after its decrement, and the loop acquired that slot
  // before it accepted, so a finished connection is never counted.
  std::atomic<int> active{0};

  void on_accept(const SocketAddress& peer) {
    std::lock_guard<std::mutex> l(mu);
    peers.push_back(peer);
    active_at_accept.push_back(active.load(std::memory_order_acquire));
  }
};

// One connection: echoes until the client closes.
Task<void> echo_until_eof(TcpStream s, Seen* seen) {
  seen->active.fetch_add(1, std::memory_order_acq_rel);  // pairs with on_accept's load
  char buf[256];
  for (;;) {
    auto n = co_await s.read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    if (!(co_await s.write_all(buf, *n)).ok()) break;
  }
  seen->active.fetch_sub(1, std::memory_order_acq_rel);  // pairs with on_accept's load
}

auto echo_handler(Seen* seen) {
  return [seen](TcpStream s, SocketAddress peer) {
    seen->on_accept(peer);
    return echo_until_eof(std::move(s), seen);
  };
}

// One byte from `s`, or the error (DeadlineExceeded after kLiveness).
Task<absl::StatusOr<char>> read_byte(TcpStream& s) {
  char back = 0;
  absl::StatusOr<absl::Status> got = co_await weft::timeout(kLiveness, s.read_exact(&back, 1));
  if (!got.ok()) co_return got.status();
  if (!got->ok()) co_return *got;
  co_return back;
}

// Sends `byte` and returns what comes back, or the error.
Task<absl::StatusOr<char>> round_trip(TcpStream& s, char byte) {
  absl::Status st = co_await s.write_all(&byte, 1);
  if (!st.ok()) co_return st;
  co_return co_await read_byte(s);
}

}  // namespace

TEST_CASE("accept_loop: every connection goes to the handler, with its peer, through spawn",
          "[examples][accept_loop]") {
  auto listener = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(listener);
  const SocketAddress at = listener->local_address().value();
  Seen seen;
  std::atomic<int> spawned{0};  // relaxed: read after the loop is cancelled (join orders it)
  weft::block_on([&]() -> Task<void> {
    examples::Connections conns(8);
    auto spawn = [&spawned](Task<void> t) {
      spawned.fetch_add(1, std::memory_order_relaxed);
      return weft::spawn(std::move(t));
    };
    auto acceptor =
        weft::spawn(examples::accept_loop(spawn, *listener, conns, echo_handler(&seen)));
    std::vector<TcpStream> clients;
    std::vector<SocketAddress> expected;
    for (int i = 0; i < 3; ++i) {
      auto c = co_await TcpStream::connect(at);
      weft_test::require_ok(c);
      auto back = co_await round_trip(*c, static_cast<char>('a' + i));
      weft_test::require_ok(back);
      CHECK(*back == 'a' + i);
      expected.push_back(c->local_address().value());
      clients.push_back(*std::move(c));
    }
    (void)co_await acceptor.cancel();
    clients.clear();  // the connections see end of stream and finish
    co_await conns.drain(kLiveness);
    std::lock_guard<std::mutex> l(seen.mu);
    CHECK(seen.peers == expected);
    CHECK(spawned.load(std::memory_order_relaxed) == 3);
  }());
}

TEST_CASE("accept_loop: at the connection limit, the next client waits until one ends",
          "[examples][accept_loop]") {
  auto listener = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(listener);
  const SocketAddress at = listener->local_address().value();
  Seen seen;
  weft::block_on([&]() -> Task<void> {
    examples::Connections conns(1);
    auto acceptor = weft::spawn(examples::accept_loop(*listener, conns, echo_handler(&seen)));
    auto first = co_await TcpStream::connect(at);
    weft_test::require_ok(first);
    auto a = co_await round_trip(*first, 'a');  // served: it holds the only slot
    weft_test::require_ok(a);
    // Connected by the kernel, but not accepted while `first` is open: its
    // byte waits.
    auto second = co_await TcpStream::connect(at);
    weft_test::require_ok(second);
    const char b = 'b';
    weft_test::require_ok(co_await second->write_all(&b, 1));
    first->close();  // its connection ends and frees the slot
    auto back = co_await read_byte(*second);
    weft_test::require_ok(back);
    CHECK(*back == 'b');
    (void)co_await acceptor.cancel();
    second->close();
    co_await conns.drain(kLiveness);
    std::lock_guard<std::mutex> l(seen.mu);
    REQUIRE(seen.active_at_accept.size() == 2);
    // Accepted only after the first connection had ended.
    CHECK(seen.active_at_accept[0] == 0);
    CHECK(seen.active_at_accept[1] == 0);
  }());
}

TEST_CASE("accept_loop: a closed listener ends the loop", "[examples][accept_loop]") {
  auto listener = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(listener);
  Seen seen;
  weft::block_on([&]() -> Task<void> {
    examples::Connections conns(4);
    auto acceptor = weft::spawn(examples::accept_loop(*listener, conns, echo_handler(&seen)));
    listener->close();  // before or during its accept: Cancelled either way
    absl::Status ended = co_await weft::timeout(kLiveness, acceptor);
    weft_test::require_ok(ended);  // not DeadlineExceeded: it returned
    co_await conns.drain(kLiveness);
  }());
  std::lock_guard<std::mutex> l(seen.mu);
  CHECK(seen.peers.empty());
}

namespace {

// Out of fds while it lives: a low soft RLIMIT_NOFILE, every fd below it
// taken by a dup of stdin. No Catch2 assertion may run meanwhile (they can
// need an fd, see tcp_emfile_test.cc); results are checked afterwards.
class OutOfFds {
 public:
  OutOfFds() {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) return;
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(weft_test::highest_open_fd() + 32);
    if (low.rlim_cur > saved_.rlim_cur || ::setrlimit(RLIMIT_NOFILE, &low) != 0) return;
    lowered_ = true;
    for (;;) {
      const int fd = ::dup(STDIN_FILENO);
      if (fd < 0) {
        exhausted_ = errno == EMFILE;
        break;
      }
      fillers_.push_back(fd);
    }
  }
  ~OutOfFds() { release(); }
  OutOfFds(const OutOfFds&) = delete;
  OutOfFds& operator=(const OutOfFds&) = delete;

  void release() {
    for (int fd : fillers_) ::close(fd);
    fillers_.clear();
    if (lowered_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    lowered_ = false;
  }
  bool exhausted() const { return exhausted_; }

 private:
  rlimit saved_{};
  bool lowered_ = false;
  bool exhausted_ = false;
  std::vector<int> fillers_;
};

}  // namespace

TEST_CASE("accept_loop: out of fds, it backs off and serves the queued client once fds are free",
          "[examples][accept_loop][emfile]") {
  auto listener = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(listener);
  const SocketAddress at = listener->local_address().value();
  // The loop reports accept errors on stderr: read them through a pipe.
  int err_pipe[2];
  REQUIRE(::pipe2(err_pipe, O_NONBLOCK | O_CLOEXEC) == 0);
  const int saved_stderr = ::dup(STDERR_FILENO);
  REQUIRE(saved_stderr >= 0);
  auto err_reader = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(err_pipe[0]));
  weft_test::require_ok(err_reader);
  Seen seen;
  weft::block_on([&]() -> Task<void> {
    // The global executor's threads start before the fds run out.
    co_await weft::spawn([]() -> Task<void> { co_return; }());
    examples::Connections conns(4);
    // Queued in the listen backlog before the fds run out.
    auto client = co_await TcpStream::connect(at);
    weft_test::require_ok(client);
    const char x = 'x';
    weft_test::require_ok(co_await client->write_all(&x, 1));

    std::string reported;
    bool exhausted = false;
    bool saw_emfile = false;
    std::optional<weft::JoinHandle<void>> acceptor;
    {
      ::dup2(err_pipe[1], STDERR_FILENO);
      OutOfFds fds;
      exhausted = fds.exhausted();
      acceptor.emplace(weft::spawn(examples::accept_loop(*listener, conns, echo_handler(&seen))));
      // Until the loop has failed an accept for want of an fd, twice (so it
      // went on after the first), bounded by kLiveness.
      const auto deadline = std::chrono::steady_clock::now() + kLiveness;
      char buf[512];
      while (std::chrono::steady_clock::now() < deadline) {
        auto n = co_await weft::timeout(kLiveness, err_reader->read(buf, sizeof buf));
        if (!n.ok() || !n->ok() || **n == 0) break;
        reported.append(buf, **n);
        size_t count = 0;
        for (size_t pos = reported.find("RESOURCE_EXHAUSTED"); pos != std::string::npos;
             pos = reported.find("RESOURCE_EXHAUSTED", pos + 1)) {
          ++count;
        }
        if (count >= 2) {
          saw_emfile = true;
          break;
        }
      }
      fds.release();
      ::dup2(saved_stderr, STDERR_FILENO);
    }
    REQUIRE(exhausted);
    INFO("stderr of the loop: " << reported);
    REQUIRE(saw_emfile);
    // The loop is still there: the queued client is served.
    auto back = co_await read_byte(*client);
    weft_test::require_ok(back);
    CHECK(*back == 'x');
    CHECK_FALSE(acceptor->is_finished());
    (void)co_await acceptor->cancel();
    client->close();
    co_await conns.drain(kLiveness);
  }());
  ::close(err_pipe[1]);
  ::close(saved_stderr);
}
