// UdpSocket: send_to / recv_from, waiting receivers, connect with
// send / recv, peeking, and ICMP errors on a connected socket.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "net_test_util.h"
#include "weft.h"

using weft::SocketAddress;
using weft::Task;
using weft::UdpSocket;

namespace {

UdpSocket loopback_udp() {
  auto s = UdpSocket::bind(SocketAddress::loopback_v4(0));
  weft_test::require_ok(s);
  return *std::move(s);
}

}  // namespace

TEST_CASE("UDP: send_to and recv_from carry datagrams and the sender's address", "[udp]") {
  auto a = loopback_udp();
  auto b = loopback_udp();
  const SocketAddress a_at = a.local_address().value();
  const SocketAddress b_at = b.local_address().value();
  CHECK(a_at.port() != 0);
  weft::block_on([&]() -> Task<void> {
    auto sent = co_await a.send_to("one", 3, b_at);
    weft_test::require_ok(sent);
    CHECK(*sent == 3);
    weft_test::require_ok(co_await a.send_to("two!", 4, b_at));
    char buf[16];
    auto first = co_await b.recv_from(buf, sizeof buf);
    weft_test::require_ok(first);
    CHECK(std::string(buf, first->first) == "one");  // datagram boundaries kept
    CHECK(first->second == a_at);
    auto second = co_await b.recv_from(buf, sizeof buf);
    weft_test::require_ok(second);
    CHECK(std::string(buf, second->first) == "two!");
    // Reply to whoever sent it.
    weft_test::require_ok(co_await b.send_to("ack", 3, second->second));
    auto reply = co_await a.recv_from(buf, sizeof buf);
    weft_test::require_ok(reply);
    CHECK(std::string(buf, reply->first) == "ack");
    CHECK(reply->second == b_at);
  }());
}

TEST_CASE("UDP: recv_from waits until a datagram arrives", "[udp]") {
  auto a = loopback_udp();
  auto b = loopback_udp();
  weft::Executor ex;
  auto got = weft_test::run_with_helper(ex, [&]() -> Task<absl::StatusOr<std::string>> {
    auto receiver = ex.spawn([](UdpSocket* s) -> Task<absl::StatusOr<std::string>> {
      char buf[16];
      auto r = co_await s->recv_from(buf, sizeof buf);
      if (!r.ok()) co_return r.status();
      co_return std::string(buf, r->first);
    }(&b));
    while (b.num_waiters() == 0 && !receiver.is_finished()) co_await weft::yield_now();
    CHECK(b.num_waiters() == 1);  // suspended, not spinning
    auto sent = co_await a.send_to("late", 4, b.local_address().value());
    if (!sent.ok()) co_return sent.status();
    co_return co_await receiver;
  }());
  weft_test::require_ok(got);
  CHECK(*got == "late");
}

TEST_CASE("UDP: connect sets the default peer for send / recv and filters senders", "[udp]") {
  auto a = loopback_udp();
  auto b = loopback_udp();
  auto stranger = loopback_udp();
  const SocketAddress a_at = a.local_address().value();
  const SocketAddress b_at = b.local_address().value();
  weft_test::require_ok(a.connect(b_at));
  weft_test::require_ok(b.connect(a_at));
  CHECK(a.peer_address().value() == b_at);
  weft::block_on([&]() -> Task<void> {
    // A datagram from a third socket is dropped by the connected socket.
    weft_test::require_ok(co_await stranger.send_to("noise", 5, a_at));
    weft_test::require_ok(co_await b.send("hello", 5));
    char buf[16];
    auto n = co_await a.recv(buf, sizeof buf);
    weft_test::require_ok(n);
    CHECK(std::string(buf, *n) == "hello");
    weft_test::require_ok(co_await a.send("back", 4));
    auto m = co_await b.recv(buf, sizeof buf);
    weft_test::require_ok(m);
    CHECK(std::string(buf, *m) == "back");
  }());
}

TEST_CASE("UDP: send without a peer fails with a status", "[udp]") {
  auto a = loopback_udp();
  auto st = weft::block_on([&]() -> Task<absl::Status> {
    auto r = co_await a.send("x", 1);
    co_return r.status();
  }());
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(std::string(st.message()), Catch::Contains(std::strerror(EDESTADDRREQ)));
}

TEST_CASE("UDP: peek_from and peek leave the datagram queued", "[udp]") {
  auto a = loopback_udp();
  auto b = loopback_udp();
  weft::block_on([&]() -> Task<void> {
    weft_test::require_ok(co_await a.send_to("peekaboo", 8, b.local_address().value()));
    char buf[16];
    auto p = co_await b.peek_from(buf, sizeof buf);
    weft_test::require_ok(p);
    CHECK(std::string(buf, p->first) == "peekaboo");
    CHECK(p->second == a.local_address().value());
    auto q = co_await b.peek(buf, 4);
    weft_test::require_ok(q);
    CHECK(std::string(buf, *q) == "peek");
    auto r = co_await b.recv_from(buf, sizeof buf);
    weft_test::require_ok(r);
    CHECK(std::string(buf, r->first) == "peekaboo");
  }());
}

TEST_CASE("UDP: a refused datagram surfaces once as a status; the socket then waits normally",
          "[udp]") {
  SocketAddress closed;
  {
    auto gone = loopback_udp();
    closed = gone.local_address().value();
  }
  auto a = loopback_udp();
  auto b = loopback_udp();
  weft_test::require_ok(a.connect(closed));
  weft::Executor ex;
  weft_test::run_with_helper(ex, [&]() -> Task<void> {
    weft_test::require_ok(co_await a.send("anyone?", 7));
    // The ICMP port-unreachable comes back as EPOLLERR; recv reports it.
    char buf[16];
    auto refused = co_await a.recv(buf, sizeof buf);
    REQUIRE_FALSE(refused.ok());
    CHECK(absl::IsUnavailable(refused.status()));
    CHECK_THAT(std::string(refused.status().message()),
               Catch::Contains(std::strerror(ECONNREFUSED)));

    // Afterwards the socket is healthy: a new recv suspends (it does not
    // spin on the stale error) and gets the next datagram.
    weft_test::require_ok(a.connect(b.local_address().value()));
    auto receiver = ex.spawn([](UdpSocket* s) -> Task<absl::StatusOr<std::string>> {
      char buf[16];
      auto n = co_await s->recv(buf, sizeof buf);
      if (!n.ok()) co_return n.status();
      co_return std::string(buf, *n);
    }(&a));
    while (a.num_waiters() == 0 && !receiver.is_finished()) co_await weft::yield_now();
    CHECK(a.num_waiters() == 1);
    weft_test::require_ok(co_await b.send_to("fine", 4, a.local_address().value()));
    auto got = co_await receiver;
    weft_test::require_ok(got);
    CHECK(*got == "fine");
  }());
}
