// TcpListener and TcpStream: connect/accept, refused connects, peek,
// hang-ups on either side, half-close, full duplex, adopting sockets.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::OwnedFd;
using weft::Shutdown;
using weft::SocketAddress;
using weft::Task;
using weft::TcpListener;
using weft::TcpStream;

namespace {

TcpListener loopback_listener() {
  auto l = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(l);
  return *std::move(l);
}

// A connected pair: (client, server side).
Task<std::pair<TcpStream, TcpStream>> connected_pair(TcpListener& listener) {
  auto c = co_await TcpStream::connect(listener.local_address().value());
  weft_test::require_ok(c);
  auto s = co_await listener.accept();  // the kernel finished the handshake already
  weft_test::require_ok(s);
  co_return std::pair<TcpStream, TcpStream>(*std::move(c), std::move(s->first));
}

std::string str(const char* p, size_t n) { return std::string(p, n); }

}  // namespace

TEST_CASE("TCP: connect and accept; bytes both ways; addresses agree", "[tcp]") {
  auto listener = loopback_listener();
  const SocketAddress at = listener.local_address().value();
  CHECK(at.ip() == "127.0.0.1");
  CHECK(at.port() != 0);
  weft::block_on([&]() -> Task<void> {
    auto c = co_await TcpStream::connect(at);
    weft_test::require_ok(c);
    auto s = co_await listener.accept();
    weft_test::require_ok(s);
    TcpStream& server = s->first;
    CHECK(s->second == c->local_address().value());
    CHECK(c->peer_address().value() == at);
    CHECK(server.local_address().value() == at);
    CHECK(server.peer_address().value() == s->second);

    weft_test::require_ok(co_await c->write_all("ping", 4));
    char buf[4];
    weft_test::require_ok(co_await server.read_exact(buf, 4));
    CHECK(str(buf, 4) == "ping");
    weft_test::require_ok(co_await server.write_all("pong", 4));
    weft_test::require_ok(co_await c->read_exact(buf, 4));
    CHECK(str(buf, 4) == "pong");
  }());
}

TEST_CASE("TCP: connect and accept over IPv6 loopback", "[tcp][ipv6]") {
  auto listener = TcpListener::bind(SocketAddress::loopback_v6(0));
  if (!listener.ok()) {
    // No IPv6 on this host: nothing to test, and say so.
    WARN("skipped: " << listener.status().ToString());
    return;
  }
  weft::block_on([&]() -> Task<void> {
    auto c = co_await TcpStream::connect(listener->local_address().value());
    weft_test::require_ok(c);
    auto s = co_await listener->accept();
    weft_test::require_ok(s);
    CHECK(s->second.is_v6());
    weft_test::require_ok(co_await c->write_all("six", 3));
    char buf[3];
    weft_test::require_ok(co_await s->first.read_exact(buf, 3));
    CHECK(str(buf, 3) == "six");
  }());
}

TEST_CASE("TCP: a refused connect comes back as an Unavailable status", "[tcp]") {
  SocketAddress closed;
  {
    auto l = loopback_listener();
    closed = l.local_address().value();
  }  // nobody listens there now
  auto st = weft::block_on([&]() -> Task<absl::Status> {
    auto c = co_await TcpStream::connect(closed);
    co_return c.status();
  }());
  REQUIRE_FALSE(st.ok());
  CHECK(absl::IsUnavailable(st));
  CHECK_THAT(std::string(st.message()), Catch::Contains(std::strerror(ECONNREFUSED)));
  CHECK_THAT(std::string(st.message()), Catch::Contains(closed.to_string()));
}

TEST_CASE("TCP: connecting to the unspecified address is refused up front", "[tcp]") {
  auto st = weft::block_on([]() -> Task<absl::Status> {
    auto c = co_await TcpStream::connect(SocketAddress());
    co_return c.status();
  }());
  CHECK(absl::IsInvalidArgument(st));
}

TEST_CASE("TCP: peek shows bytes that read then returns", "[tcp]") {
  auto listener = loopback_listener();
  weft::block_on([&]() -> Task<void> {
    auto [client, server] = co_await connected_pair(listener);
    weft_test::require_ok(co_await client.write_all("hello", 5));
    char peeked[16];
    auto p = co_await server.peek(peeked, sizeof peeked);
    weft_test::require_ok(p);
    REQUIRE(*p >= 1);
    auto again = co_await server.peek(peeked, sizeof peeked);  // still there
    weft_test::require_ok(again);
    CHECK(*again >= *p);
    char got[5];
    weft_test::require_ok(co_await server.read_exact(got, 5));
    CHECK(str(got, 5) == "hello");
    CHECK(str(peeked, *p) == str(got, *p));
  }());
}

TEST_CASE("TCP: reader side: read returns 0 when the peer closes", "[tcp]") {
  auto listener = loopback_listener();
  weft::Executor ex;
  weft_test::run_with_helper(ex, [&]() -> Task<void> {
    auto [client, server] = co_await connected_pair(listener);
    weft_test::require_ok(co_await client.write_all("bye", 3));
    // The server reads what was sent, then waits in read until the close.
    using Seen = std::pair<std::string, absl::StatusOr<size_t>>;
    auto reader = ex.spawn([](TcpStream* s) -> Task<Seen> {
      char buf[3];
      absl::Status st = co_await s->read_exact(buf, 3);
      if (!st.ok()) co_return std::pair{st.ToString(), absl::StatusOr<size_t>(st)};
      char more[8];
      auto eof = co_await s->read(more, sizeof more);
      co_return std::pair{std::string(buf, 3), eof};
    }(&server));
    while (server.num_waiters() == 0 && !reader.is_finished()) co_await weft::yield_now();
    client.close();
    auto [first, eof] = co_await reader;
    CHECK(first == "bye");
    weft_test::require_ok(eof);
    CHECK(*eof == 0);
  }());
}

namespace {
std::atomic<int> g_sigpipes{0};
void count_sigpipe(int) { g_sigpipes.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

TEST_CASE("TCP: writer side: writing to a closed peer fails with a status, no SIGPIPE",
          "[tcp][sigpipe]") {
  // A counting handler: if any write raised SIGPIPE we would see it (with
  // SIG_IGN, which the reactor installs by default, we could not tell).
  struct sigaction counting{}, old{};
  counting.sa_handler = count_sigpipe;
  sigemptyset(&counting.sa_mask);
  REQUIRE(sigaction(SIGPIPE, &counting, &old) == 0);
  g_sigpipes.store(0, std::memory_order_relaxed);

  auto listener = loopback_listener();
  absl::Status st = weft::block_on([&]() -> Task<absl::Status> {
    auto [client, server] = co_await connected_pair(listener);
    server.close();  // the peer is gone; our writes provoke a reset
    std::vector<char> chunk(16 * 1024, 'x');
    absl::Status last = absl::OkStatus();
    for (int i = 0; i < 1000 && last.ok(); ++i) {
      last = co_await client.write_all(chunk.data(), chunk.size());
    }
    co_return last;
  }());
  sigaction(SIGPIPE, &old, nullptr);

  REQUIRE_FALSE(st.ok());
  const std::string msg(st.message());
  INFO(msg);
  CHECK((msg.find(std::strerror(EPIPE)) != std::string::npos ||
         msg.find(std::strerror(ECONNRESET)) != std::string::npos));
  CHECK(g_sigpipes.load(std::memory_order_relaxed) == 0);
}

TEST_CASE("TCP: shutdown(write) is end of stream for the peer, which can still reply", "[tcp]") {
  auto listener = loopback_listener();
  weft::block_on([&]() -> Task<void> {
    auto [client, server] = co_await connected_pair(listener);
    weft_test::require_ok(co_await client.write_all("last words", 10));
    weft_test::require_ok(client.shutdown(Shutdown::kWrite));
    std::string got;
    char buf[64];
    for (;;) {
      auto n = co_await server.read(buf, sizeof buf);
      weft_test::require_ok(n);
      if (*n == 0) break;
      got.append(buf, *n);
    }
    CHECK(got == "last words");
    // Half-closed: the other direction still works.
    weft_test::require_ok(co_await server.write_all("reply", 5));
    weft_test::require_ok(co_await client.read_exact(buf, 5));
    CHECK(str(buf, 5) == "reply");
    weft_test::require_ok(server.shutdown(Shutdown::kWrite));
    auto eof = co_await client.read(buf, sizeof buf);
    weft_test::require_ok(eof);
    CHECK(*eof == 0);
  }());
}

namespace {

constexpr size_t kDuplexBytes = 8u << 20;  // 8 MiB each way
constexpr size_t kDuplexChunk = 64u << 10;

// Writes kDuplexBytes of pattern `seed` in uneven pieces.
Task<absl::Status> write_pattern(TcpStream* s, uint64_t seed) {
  std::vector<uint8_t> buf(kDuplexChunk);
  size_t sent = 0;
  size_t piece = 1000;
  while (sent < kDuplexBytes) {
    const size_t n = std::min({piece, kDuplexBytes - sent, buf.size()});
    weft_test::fill_pattern(seed, sent, buf.data(), n);
    absl::Status st = co_await s->write_all(buf.data(), n);
    if (!st.ok()) co_return st;
    sent += n;
    piece = piece * 7 % kDuplexChunk + 1;  // vary the write sizes
  }
  co_return absl::OkStatus();
}

// Reads kDuplexBytes and checks them against pattern `seed`; then expects
// end of stream. Returns a description of the first problem, or "".
Task<std::string> read_pattern(TcpStream* s, uint64_t seed) {
  std::vector<uint8_t> buf(kDuplexChunk);
  size_t got = 0;
  while (got < kDuplexBytes) {
    auto n = co_await s->read(buf.data(), std::min(buf.size(), kDuplexBytes - got));
    if (!n.ok()) co_return n.status().ToString();
    if (*n == 0) co_return "end of stream after " + std::to_string(got) + " bytes";
    const int64_t bad = weft_test::first_mismatch(seed, got, buf.data(), *n);
    if (bad >= 0) co_return "wrong byte at offset " + std::to_string(bad);
    got += *n;
  }
  co_return "";
}

}  // namespace

TEST_CASE("TCP: full duplex: 8 MiB each way at once, reader and writer tasks per end",
          "[tcp][duplex]") {
  auto listener = loopback_listener();
  weft::Executor ex;
  weft_test::run_with_helper(ex, [&]() -> Task<void> {
    auto [client, server] = co_await connected_pair(listener);
    auto cw = ex.spawn(write_pattern(&client, 1));
    auto sw = ex.spawn(write_pattern(&server, 2));
    auto cr = ex.spawn(read_pattern(&client, 2));
    auto sr = ex.spawn(read_pattern(&server, 1));
    const absl::Status client_wrote = co_await cw;
    const absl::Status server_wrote = co_await sw;
    CHECK(client_wrote.ok());
    CHECK(server_wrote.ok());
    const std::string client_read = co_await cr;
    const std::string server_read = co_await sr;
    CHECK(client_read == "");
    CHECK(server_read == "");
  }());
}

TEST_CASE("TCP: set_nodelay, and adopting sockets with from_fd / from_async", "[tcp]") {
  auto listener = loopback_listener();
  weft::block_on([&]() -> Task<void> {
    auto [client, server] = co_await connected_pair(listener);
    weft_test::require_ok(client.set_nodelay(true));
    CHECK(client.nodelay().value());
    weft_test::require_ok(client.set_nodelay(false));
    CHECK_FALSE(client.nodelay().value());

    // A blocking socket connected by plain code becomes a TcpStream.
    OwnedFd raw(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const SocketAddress at = listener.local_address().value();
    REQUIRE(::connect(raw.get(), at.data(), at.size()) == 0);
    auto adopted = TcpStream::from_fd(std::move(raw));
    weft_test::require_ok(adopted);
    auto s = co_await listener.accept();
    weft_test::require_ok(s);
    weft_test::require_ok(co_await adopted->write_all("fd", 2));
    char buf[2];
    weft_test::require_ok(co_await s->first.read_exact(buf, 2));
    CHECK(str(buf, 2) == "fd");

    // An Async<OwnedFd> holding a TCP socket converts too.
    OwnedFd raw2(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::connect(raw2.get(), at.data(), at.size()) == 0);
    auto as = weft::Async<OwnedFd>::create(std::move(raw2)).value();
    auto from_async = TcpStream::from_async(std::move(as));
    weft_test::require_ok(from_async);
    CHECK(from_async->peer_address().value() == at);
  }());

  // Not TCP: refused, and the fd is left with the caller.
  OwnedFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto bad = TcpStream::from_fd(std::move(udp));
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(udp.get() >= 0);
  OwnedFd unix_stream(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  CHECK(absl::IsInvalidArgument(TcpStream::from_fd(std::move(unix_stream)).status()));
  OwnedFd not_listening(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  CHECK(absl::IsInvalidArgument(TcpListener::from_fd(std::move(not_listening)).status()));
}

TEST_CASE("TCP: a task waiting in accept wakes with Cancelled when the listener closes",
          "[tcp][cancel]") {
  auto listener = loopback_listener();
  weft::Executor ex;
  absl::Status st = weft_test::run_with_helper(ex, [&]() -> Task<absl::Status> {
    auto acceptor = ex.spawn([](TcpListener* l) -> Task<absl::Status> {
      auto r = co_await l->accept();
      co_return r.status();
    }(&listener));
    while (listener.num_waiters() == 0 && !acceptor.is_finished()) co_await weft::yield_now();
    listener.close();
    co_return co_await acceptor;
  }());
  CHECK(absl::IsCancelled(st));
}

TEST_CASE("TCP: cancelling a task blocked in accept removes its wait; the listener serves on",
          "[tcp][cancel]") {
  auto listener = loopback_listener();
  std::atomic<int> live{0}, destroyed{0};
  weft::LocalExecutor ex;
  std::string got = ex.run([&]() -> Task<std::string> {
    auto blocked = ex.spawn([](TcpListener* l, std::atomic<int>* lv,
                               std::atomic<int>* d) -> Task<void> {
      weft_test::Counted c(lv, d);
      (void)co_await l->accept();
    }(&listener, &live, &destroyed));
    while (listener.num_waiters() == 0) co_await weft::yield_now();
    { auto drop = std::move(blocked); }  // cancel it at its accept
    co_await weft::yield_now();
    CHECK(destroyed.load() == 1);
    CHECK(live.load() == 0);
    CHECK(listener.num_waiters() == 0);  // the registration kept no trace of it
    // The listener still accepts.
    auto addr = listener.local_address();
    REQUIRE(addr.ok());
    auto client = co_await TcpStream::connect(*addr);
    REQUIRE(client.ok());
    auto conn = co_await listener.accept();
    REQUIRE(conn.ok());
    absl::Status sent = co_await client->write_all("ok", 2);
    REQUIRE(sent.ok());
    char buf[2];
    absl::Status recvd = co_await conn->first.read_exact(buf, 2);
    REQUIRE(recvd.ok());
    co_return std::string(buf, 2);
  }());
  CHECK(got == "ok");
}
