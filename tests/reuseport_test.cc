// SO_REUSEPORT listeners (ListenOptions::reuse_port): a group shares one
// port and the kernel spreads connections over it; without the option the
// second bind is refused.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "net_test_util.h"
#include "weft.h"

using weft::ListenOptions;
using weft::SocketAddress;
using weft::TcpListener;
using weft::TcpStream;

namespace {
// Accepts (without waiting) what is queued on `l`; returns how many.
int drain_queue(const TcpListener& l) {
  int n = 0;
  for (;;) {
    const int fd = ::accept4(l.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      REQUIRE((errno == EAGAIN || errno == EWOULDBLOCK));
      return n;
    }
    ::close(fd);
    ++n;
  }
}
}  // namespace

TEST_CASE("reuse_port listeners share a port and both get connections", "[tcp][reuseport]") {
  auto first = TcpListener::bind(SocketAddress::loopback_v4(0), ListenOptions{.reuse_port = true});
  weft_test::require_ok(first);
  const SocketAddress addr = first->local_address().value();
  auto second = TcpListener::bind(addr, ListenOptions{.reuse_port = true});
  weft_test::require_ok(second);
  CHECK(second->local_address().value().port() == addr.port());

  // 64 connections from 64 source ports: the kernel's hash sends each to one
  // listener; all landing on one of two would be a 1 in 2^63 chance.
  constexpr int kConns = 64;
  std::vector<TcpStream> clients;
  weft::block_on([&]() -> weft::Task<void> {
    for (int i = 0; i < kConns; ++i) {
      auto c = co_await TcpStream::connect(addr);
      weft_test::require_ok(c);
      clients.push_back(*std::move(c));
    }
  }());
  const int a = drain_queue(*first);
  const int b = drain_queue(*second);
  CHECK(a + b == kConns);
  CHECK(a > 0);
  CHECK(b > 0);
}

TEST_CASE("without reuse_port a second listener on the port is refused", "[tcp][reuseport]") {
  auto first = TcpListener::bind(SocketAddress::loopback_v4(0), ListenOptions{.reuse_port = true});
  weft_test::require_ok(first);
  const SocketAddress addr = first->local_address().value();
  auto plain = TcpListener::bind(addr);
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(plain.status().message().find("bind") != absl::string_view::npos);
}
