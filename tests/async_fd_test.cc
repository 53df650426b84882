// Async<T>: bad input, readiness, read_with/write_with, close while
// waiting, cancellation, fd reuse, no SIGPIPE.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_util.h"
#include "weft.h"

using weft::Async;
using weft::OwnedFd;

namespace {

std::pair<OwnedFd, OwnedFd> socket_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {OwnedFd(fds[0]), OwnedFd(fds[1])};
}

std::string tmp_path(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

}  // namespace

TEST_CASE("Async refuses an invalid fd, a closed fd, a regular file, a directory", "[async_fd]") {
  auto bad = Async<int>::create(-1);
  CHECK(absl::IsInvalidArgument(bad.status()));

  int closed = ::dup(0);
  ::close(closed);
  CHECK(absl::IsInvalidArgument(Async<int>::create(std::move(closed)).status()));

  int file = ::open(tmp_path("regular").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  REQUIRE(file >= 0);
  auto f = Async<int>::create(std::move(file));
  REQUIRE(absl::IsInvalidArgument(f.status()));
  CHECK_THAT(std::string(f.status().message()), Catch::Contains("blocking_pool"));
  CHECK((::fcntl(file, F_GETFL) & O_NONBLOCK) == 0);  // given back untouched
  ::close(file);

  int dir = ::open(tmp_path("").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  CHECK(absl::IsInvalidArgument(Async<int>::create(std::move(dir)).status()));
  ::close(dir);
}

TEST_CASE("registering the same fd twice is refused", "[async_fd]") {
  auto [a, b] = socket_pair();
  int raw = a.get();
  auto first = Async<OwnedFd>::create(std::move(a));
  REQUIRE(first.ok());
  int same = raw;
  auto second = Async<int>::create(std::move(same));
  CHECK(absl::IsAlreadyExists(second.status()));
}

TEST_CASE("bytes flow both ways; hang-up reads 0; no SIGPIPE on a reset peer", "[async_fd]") {
  auto [x, y] = socket_pair();
  auto a = Async<OwnedFd>::create(std::move(x)).value();
  auto b = Async<OwnedFd>::create(std::move(y)).value();
  weft::block_on([&]() -> weft::Task<void> {
    const char msg[] = "hello";
    // Await first, check after: with g++ 12, Catch2's macros evaluate a
    // co_await in their argument more than once.
    absl::Status wrote = co_await a.write_all(msg, 5);
    REQUIRE(wrote.ok());
    char buf[8] = {};
    absl::Status read = co_await b.read_exact(buf, 5);
    REQUIRE(read.ok());
    CHECK(std::string(buf, 5) == "hello");
    // Reader hang-up: b closes, a's read... a's write fails with EPIPE.
    b.close();
    char one = 0;
    auto eof = co_await a.read(&one, 1);
    REQUIRE(eof.ok());
    CHECK(*eof == 0);
    absl::Status st = absl::OkStatus();
    for (int i = 0; i < 100 && st.ok(); ++i) st = co_await a.write_all(msg, 5);
    CHECK_FALSE(st.ok());  // EPIPE / ECONNRESET, and we are still alive
  }());
}

TEST_CASE("a task waiting on a closed Async wakes with Cancelled", "[async_fd]") {
  auto [x, y] = socket_pair();
  auto a = Async<OwnedFd>::create(std::move(x)).value();
  weft::Executor ex;
  absl::Status got = ex.run([&]() -> weft::Task<absl::Status> {
    auto reader = ex.spawn([](Async<OwnedFd>* a) -> weft::Task<absl::Status> {
      char c;
      auto r = co_await a->read(&c, 1);  // nothing to read: waits
      co_return r.status();
    }(&a));
    while (a.num_waiters() == 0) co_await weft::yield_now();
    a.close();
    co_return co_await reader;
  }());
  CHECK(absl::IsCancelled(got));
}

TEST_CASE("cancelling a task blocked in read removes its wait", "[async_fd][cancel]") {
  auto [x, y] = socket_pair();
  auto a = Async<OwnedFd>::create(std::move(x)).value();
  std::atomic<int> live{0}, destroyed{0};
  weft::LocalExecutor ex;
  ex.run([&]() -> weft::Task<void> {
    auto h = ex.spawn([](Async<OwnedFd>* a, std::atomic<int>* l, std::atomic<int>* d)
                          -> weft::Task<void> {
      weft_test::Counted c(l, d);
      char buf[1];
      (void)co_await a->read(buf, 1);
    }(&a, &live, &destroyed));
    while (a.num_waiters() == 0) co_await weft::yield_now();
    CHECK(a.num_waiters() == 1);
    { auto drop = std::move(h); }
    co_await weft::yield_now();
    CHECK(destroyed == 1);
    CHECK(a.num_waiters() == 0);
  }());
}

TEST_CASE("an fd closed and its number reused at once gets a fresh registration", "[async_fd]") {
  for (int round = 0; round < 200; ++round) {
    auto [x, y] = socket_pair();
    int num = x.get();
    {
      auto a = Async<OwnedFd>::create(std::move(x)).value();
      const char c = 'x';
      REQUIRE(::write(y.get(), &c, 1) == 1);  // an event in flight for `a`
    }  // deregistered and closed
    auto [p, q] = socket_pair();  // likely reuses `num`
    auto b = Async<OwnedFd>::create(std::move(p)).value();
    // A stale readable event for the old fd must not make b look readable
    // with data: reading b must wait for real data.
    std::string got = weft::block_on([&]() -> weft::Task<std::string> {
      const char d = 'd';
      REQUIRE(::write(q.get(), &d, 1) == 1);
      char buf[4];
      auto n = co_await b.read(buf, sizeof buf);
      co_return n.ok() ? std::string(buf, *n) : std::string(n.status().ToString());
    }());
    CHECK(got == "d");
    (void)num;
  }
}

TEST_CASE("read_with and write_with over an Asio socket and a raw fd", "[async_fd][asio]") {
  asio::io_context ctx;
  asio::local::stream_protocol::socket s1(ctx), s2(ctx);
  asio::local::connect_pair(s1, s2);
  auto a = Async<asio::local::stream_protocol::socket>::create(std::move(s1)).value();
  auto [x, y] = socket_pair();
  int raw = x.release();
  auto r = Async<int>::create(std::move(raw)).value();
  weft::block_on([&]() -> weft::Task<void> {
    // Nothing to read yet: read_with must wait (asio reports would_block),
    // then succeed once the peer writes.
    std::thread writer([&] {
      asio::write(s2, asio::buffer("ping", 4));
    });
    char buf[4];
    auto n = co_await a.read_with([&](auto& sock) {
      std::error_code ec;
      size_t n = sock.read_some(asio::buffer(buf), ec);
      return std::pair{n, ec};
    });
    writer.join();
    REQUIRE(n.ok());
    CHECK(n->second == std::error_code());
    CHECK(std::string(buf, n->first) == std::string("ping", n->first));
    // The throwing form of asio's API works too.
    std::thread writer2([&] { asio::write(s2, asio::buffer("x", 1)); });
    auto m = co_await a.read_with([&](auto& sock) { return sock.read_some(asio::buffer(buf)); });
    writer2.join();
    REQUIRE(m.ok());
    CHECK(*m >= 1);
    // errno style over a raw fd.
    auto w = co_await r.write_with([](int fd) { return ::write(fd, "ok", 2); });
    REQUIRE(w.ok());
    CHECK(*w == 2);
    char two[2];
    CHECK(::read(y.get(), two, 2) == 2);
  }());
  // into_inner gives the socket back in blocking mode.
  auto sock = std::move(a).into_inner();
  CHECK_FALSE(sock.non_blocking());
}
