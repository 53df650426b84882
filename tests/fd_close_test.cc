// Closing an Async<T> from another thread while one of its operations is in
// the middle of its syscall (issue #9, item 5). The operation captured the
// fd number; if close() let the number go while the syscall was about to
// run, an open() on a third thread could take the number and the operation
// would read or write someone else's file. Here the "third thread's file"
// is forced onto the number with dup2 the moment close() returns.
//
// Each test holds the operation inside its op until either the closer is
// seen waiting for it (the fixed behaviour: close waits for operations in
// flight) or close() has returned and the number been reused (the old
// behaviour, which the test then shows to be wrong).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

#include "weft.h"

using weft::Async;

namespace {

// Exposes the registration record (protected in Async) so the test can see
// the closer wait.
class Observed : public Async<int> {
 public:
  explicit Observed(Async<int>&& a) : Async<int>(std::move(a)) {}
  const weft::detail::ScheduledIo* record() const { return io(); }
};

template <class F>
void spin_until(F done) {
  while (!done()) std::this_thread::yield();
}

struct Pipe {
  int r = -1;
  int w = -1;
  explicit Pipe(int flags = 0) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC | flags) == 0);
    r = p[0];
    w = p[1];
  }
};

// Makes `num` name `want` (one end of a new pipe), as an open() on another
// thread that got the number would; `other` (the pipe's other end) is kept
// open under some other number.
void take_number(int num, int& want, int& other) {
  if (want == num) return;
  if (other == num) other = ::fcntl(other, F_DUPFD_CLOEXEC, 0);  // move it off num
  REQUIRE(other >= 0);
  REQUIRE(::dup2(want, num) == num);
  ::close(want);
  want = num;
}

// What a non-blocking read of `fd` finds right now ("" when empty).
std::string drain(int fd) {
  char buf[64];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// seq_cst on the test's own flags throughout: they are few and not on any
// measured path.
struct Handshake {
  std::atomic<bool> in_op{false};   // the op has started its first try
  std::atomic<bool> closed{false};  // close() returned
  std::atomic<bool> reused{false};  // the old number names the intruder now
};

}  // namespace

TEST_CASE("a read in flight during a cross-thread close never reads the number's next file",
          "[async_fd][close]") {
  Pipe old_pipe;
  const int num = old_pipe.r;
  Observed a(Async<int>::create(int{old_pipe.r}).value());
  const weft::detail::ScheduledIo* rec = a.record();
  Handshake hs;
  absl::StatusOr<ssize_t> result = absl::UnknownError("not run");
  std::string read_by_op;

  std::thread reader([&] {
    result = weft::block_on(a.read_with([&](int& fd) -> ssize_t {
      if (!hs.in_op.exchange(true, std::memory_order_seq_cst)) {
        spin_until([&] {
          return hs.reused.load(std::memory_order_seq_cst) || rec->closer_waiting();
        });
      }
      char buf[64];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) read_by_op.assign(buf, static_cast<size_t>(n));
      return n;
    }));
  });
  spin_until([&] { return hs.in_op.load(std::memory_order_seq_cst); });
  std::thread closer([&] {
    a.close();
    hs.closed.store(true, std::memory_order_seq_cst);
  });
  spin_until([&] { return hs.closed.load(std::memory_order_seq_cst); });
  // close() returned: the number is free. Another thread's file takes it,
  // with data in it.
  Pipe intruder(O_NONBLOCK);
  take_number(num, intruder.r, intruder.w);
  REQUIRE(::write(intruder.w, "intruder", 8) == 8);
  hs.reused.store(true, std::memory_order_seq_cst);
  reader.join();
  closer.join();

  // The operation saw an empty pipe (its own), then the close: Cancelled.
  CHECK(read_by_op.empty());
  CHECK(absl::IsCancelled(result.status()));
  // The intruder's data is still there for its owner.
  CHECK(drain(num) == "intruder");
  ::close(num);
  ::close(intruder.w);
  ::close(old_pipe.w);
}

TEST_CASE("a write in flight during a cross-thread close never writes into the number's next file",
          "[async_fd][close]") {
  Pipe old_pipe(O_NONBLOCK);
  const int num = old_pipe.w;
  Observed a(Async<int>::create(int{old_pipe.w}).value());
  const weft::detail::ScheduledIo* rec = a.record();
  Handshake hs;
  absl::StatusOr<ssize_t> result = absl::UnknownError("not run");

  std::thread writer([&] {
    result = weft::block_on(a.write_with([&](int& fd) -> ssize_t {
      if (!hs.in_op.exchange(true, std::memory_order_seq_cst)) {
        spin_until([&] {
          return hs.reused.load(std::memory_order_seq_cst) || rec->closer_waiting();
        });
      }
      return ::write(fd, "mine", 4);
    }));
  });
  spin_until([&] { return hs.in_op.load(std::memory_order_seq_cst); });
  std::thread closer([&] {
    a.close();
    hs.closed.store(true, std::memory_order_seq_cst);
  });
  spin_until([&] { return hs.closed.load(std::memory_order_seq_cst); });
  Pipe intruder(O_NONBLOCK);
  take_number(num, intruder.w, intruder.r);
  hs.reused.store(true, std::memory_order_seq_cst);
  writer.join();
  closer.join();

  // The write had begun before close() and went to its own pipe; close()
  // waited for it. Nothing reached the intruder.
  REQUIRE(result.ok());
  CHECK(*result == 4);
  CHECK(drain(old_pipe.r) == "mine");
  CHECK(drain(intruder.r).empty());
  ::close(num);
  ::close(intruder.r);
  ::close(old_pipe.r);
}

TEST_CASE("operations started after close() fail with Cancelled and make no syscall",
          "[async_fd][close]") {
  Pipe p(O_NONBLOCK);
  auto a = Async<int>::create(int{p.r}).value();
  a.close();
  CHECK(a.fd() == -1);
  CHECK(a.num_waiters() == 0);
  int calls = 0;
  auto r = weft::block_on(a.read_with([&](int&) -> ssize_t {
    ++calls;
    return 0;
  }));
  CHECK(absl::IsCancelled(r.status()));
  CHECK(calls == 0);
  char c;
  CHECK(absl::IsCancelled(weft::block_on(a.read(&c, 1)).status()));
  CHECK(absl::IsCancelled(weft::block_on(a.write(&c, 1)).status()));
  CHECK(absl::IsCancelled(weft::block_on([&]() -> weft::Task<absl::Status> {
    co_return co_await a.readable();
  }())));
  a.close();  // idempotent
  ::close(p.w);
}

TEST_CASE("close() from two threads at once closes the fd once", "[async_fd][close]") {
  for (int round = 0; round < 200; ++round) {
    Pipe p(O_NONBLOCK);
    auto a = Async<int>::create(int{p.r}).value();
    std::thread t([&] { a.close(); });
    a.close();
    t.join();
    // The number was closed exactly once: a second close(2) would have
    // closed this new pipe's end (it likely took the number) instead.
    Pipe q(O_NONBLOCK);
    CHECK(::write(q.w, "x", 1) == 1);
    CHECK(drain(q.r) == "x");
    ::close(q.r);
    ::close(q.w);
    ::close(p.w);
  }
}

TEST_CASE("a socket's synchronous calls after close() report Cancelled, not EBADF on a new file",
          "[async_fd][close]") {
  auto [a, b] = weft::UnixStream::pair().value();
  REQUIRE(a.local_address().ok());
  a.close();
  CHECK(absl::IsCancelled(a.local_address().status()));
  CHECK(absl::IsCancelled(a.peer_address().status()));
  CHECK(absl::IsCancelled(a.shutdown(weft::Shutdown::kBoth)));
  // b sees the close as end of stream.
  char c;
  auto n = weft::block_on(b.read(&c, 1));
  REQUIRE(n.ok());
  CHECK(*n == 0);
}

// Closing an Async from inside one of its own read_with ops would wait for
// itself for ever; it aborts with a message that names the mistake. Checked
// in a forked child (the child runs the op on its own thread, starting no
// threads).
TEST_CASE("close() from inside the object's own op aborts with a message", "[async_fd][close]") {
  int err_pipe[2];
  REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  Pipe p(O_NONBLOCK);
  auto a = Async<int>::create(int{p.r}).value();  // registered in the parent
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(err_pipe[1], 2);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 1);          // Catch2's output stays the parent's
    ::signal(SIGABRT, SIG_DFL);  // not Catch2's reporting handler
    (void)weft::block_on(a.read_with([&](int&) -> ssize_t {
      a.close();  // the mistake
      return 0;
    }));
    ::_exit(0);  // not reached
  }
  ::close(err_pipe[1]);
  std::string err;
  char buf[256];
  for (ssize_t n; (n = ::read(err_pipe[0], buf, sizeof buf)) > 0;) err.append(buf, n);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT));
  CHECK(err.find("closed from inside one of its own operations") != std::string::npos);
  ::close(err_pipe[0]);
  ::close(p.w);
}
