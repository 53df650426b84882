// 1,000 TCP connections open at once through an echo server, on an
// Executor with two worker threads; every byte is checked.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <vector>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::JoinHandle;
using weft::SocketAddress;
using weft::Task;
using weft::TcpListener;
using weft::TcpStream;

namespace {

constexpr int kConnections = 1000;
// Small messages and few rounds keep the run short under the sanitizers.
constexpr int kRounds = 3;
constexpr size_t kMessage = 97;  // odd, so rounds do not line up with anything

// Echoes until the client shuts down its side; then closes.
Task<absl::Status> echo(TcpStream conn) {
  // A parameter lives as long as the task's frame, which its JoinHandle
  // keeps until awaited; a local closes when the body returns, so the
  // client sees end of stream now.
  TcpStream s = std::move(conn);
  char buf[4096];
  for (;;) {
    auto n = co_await s.read(buf, sizeof buf);
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    absl::Status st = co_await s.write_all(buf, *n);
    if (!st.ok()) co_return st;
  }
}

// Accepts `count` connections, one echo task each.
Task<absl::Status> serve(TcpListener* listener, weft::Executor* ex,
                         std::vector<JoinHandle<absl::Status>>* handlers) {
  for (int i = 0; i < kConnections; ++i) {
    auto conn = co_await listener->accept();
    if (!conn.ok()) co_return conn.status();
    handlers->push_back(ex->spawn(echo(std::move(conn->first))));
  }
  co_return absl::OkStatus();
}

// Connects, waits until every client is connected (so all are open at
// once), exchanges kRounds messages, half-closes and expects the server's
// end of stream. Returns "" or what went wrong.
Task<std::string> client(SocketAddress at, uint64_t id, std::atomic<int>* connected,
                         weft_test::Gate* all_connected) {
  auto s = co_await TcpStream::connect(at);
  if (!s.ok()) co_return "connect: " + s.status().ToString();
  // acq_rel: the last client to connect opens the gate; nothing else is
  // published through the count.
  if (connected->fetch_add(1, std::memory_order_acq_rel) + 1 == kConnections) {
    all_connected->open();
  }
  co_await *all_connected;
  uint8_t out[kMessage];
  uint8_t in[kMessage];
  for (int round = 0; round < kRounds; ++round) {
    weft_test::fill_pattern(id, round * kMessage, out, kMessage);
    absl::Status st = co_await s->write_all(out, kMessage);
    if (!st.ok()) co_return "write: " + st.ToString();
    st = co_await s->read_exact(in, kMessage);
    if (!st.ok()) co_return "read: " + st.ToString();
    const int64_t bad = weft_test::first_mismatch(id, round * kMessage, in, kMessage);
    if (bad >= 0) {
      co_return "client " + std::to_string(id) + ": wrong byte at " + std::to_string(bad);
    }
  }
  absl::Status st = s->shutdown(weft::Shutdown::kWrite);
  if (!st.ok()) co_return "shutdown: " + st.ToString();
  auto eof = co_await s->read(in, sizeof in);
  if (!eof.ok()) co_return "final read: " + eof.status().ToString();
  if (*eof != 0) co_return "extra bytes after the echo";
  co_return "";
}

}  // namespace

TEST_CASE("TCP: 1,000 concurrent connections through an echo server", "[tcp][stress]") {
  // Two fds per connection (both ends live in this process), plus spare.
  const rlim_t need = 2 * kConnections + 256;
  REQUIRE(weft_test::raise_fd_limit(need) >= need);

  auto listener = TcpListener::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(listener);
  const SocketAddress at = listener->local_address().value();

  weft::Executor ex;
  std::atomic<int> connected{0};
  weft_test::Gate all_connected;
  std::vector<JoinHandle<absl::Status>> handlers;
  handlers.reserve(kConnections);

  weft_test::run_with_helper(ex, [&]() -> Task<void> {
    auto server = ex.spawn(serve(&*listener, &ex, &handlers));
    std::vector<JoinHandle<std::string>> clients;
    clients.reserve(kConnections);
    for (int i = 0; i < kConnections; ++i) {
      clients.push_back(ex.spawn(client(at, static_cast<uint64_t>(i), &connected, &all_connected)));
    }
    int failed = 0;
    std::string first_failure;
    for (auto& c : clients) {
      std::string r = co_await c;
      if (!r.empty() && failed++ == 0) first_failure = r;
    }
    INFO(first_failure);
    CHECK(failed == 0);
    absl::Status served = co_await server;
    CHECK(served.ok());
    // `handlers` is complete once `server` is: its pushes happen before its
    // completion, which our await of it acquires.
    int handler_errors = 0;
    for (auto& h : handlers) {
      if (!(co_await h).ok()) ++handler_errors;
    }
    CHECK(handler_errors == 0);
    CHECK(handlers.size() == static_cast<size_t>(kConnections));
  }());
  CHECK(connected.load(std::memory_order_relaxed) == kConnections);
}
