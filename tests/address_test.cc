// SocketAddress and UnixAddress: parsing, formatting, equality, Asio
// interop, and the errors for bad input.
#include <catch2/catch.hpp>

#include <asio.hpp>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "weft.h"

using weft::SocketAddress;
using weft::UnixAddress;

TEST_CASE("SocketAddress parses and prints IPv4", "[address]") {
  auto a = SocketAddress::parse("127.0.0.1:8080");
  REQUIRE(a.ok());
  CHECK(a->is_v4());
  CHECK(a->port() == 8080);
  CHECK(a->ip() == "127.0.0.1");
  CHECK(a->to_string() == "127.0.0.1:8080");
  CHECK(*a == SocketAddress::loopback_v4(8080));
  CHECK(SocketAddress::parse("0.0.0.0:0").value() == SocketAddress::any_v4(0));
  CHECK(SocketAddress::parse("255.255.255.255:65535").value().port() == 65535);
}

TEST_CASE("SocketAddress parses and prints IPv6, with and without a zone", "[address]") {
  auto a = SocketAddress::parse("[::1]:443");
  REQUIRE(a.ok());
  CHECK(a->is_v6());
  CHECK(a->port() == 443);
  CHECK(a->to_string() == "[::1]:443");
  CHECK(*a == SocketAddress::loopback_v6(443));
  CHECK(SocketAddress::parse("[::]:0").value() == SocketAddress::any_v6(0));

  auto z = SocketAddress::parse("[fe80::1%7]:80");
  REQUIRE(z.ok());
  CHECK(z->to_string() == "[fe80::1%7]:80");
  CHECK_FALSE(*z == SocketAddress::parse("[fe80::1]:80").value());  // zone matters
  // "lo" exists wherever there is a network stack (also in Bazel's sandbox).
  auto lo = SocketAddress::parse("[fe80::1%lo]:80");
  REQUIRE(lo.ok());
  CHECK(lo->ip().rfind("fe80::1%", 0) == 0);
}

TEST_CASE("SocketAddress: parse(to_string()) round-trips", "[address]") {
  for (const char* text : {"1.2.3.4:5", "[2001:db8::8:800:200c:417a]:65535", "[::ffff:1.2.3.4]:9",
                           "[fe80::2%3]:1"}) {
    auto a = SocketAddress::parse(text);
    REQUIRE(a.ok());
    CHECK(a->to_string() == text);
    CHECK(SocketAddress::parse(a->to_string()).value() == *a);
  }
}

TEST_CASE("SocketAddress refuses malformed text with InvalidArgument", "[address]") {
  struct Case {
    const char* text;
    const char* says;
  };
  for (Case c : {Case{"127.0.0.1", "expected \"host:port\""}, Case{"127.0.0.1:", "bad port"},
                 Case{"127.0.0.1:65536", "bad port"}, Case{"127.0.0.1:-1", "bad port"},
                 Case{"127.0.0.1:80x", "bad port"}, Case{"1.2.3:80", "not a numeric"},
                 Case{"localhost:80", "resolution"}, Case{"::1:80", "needs brackets"},
                 Case{"[::1]80", "[ipv6]:port"}, Case{"[::1:80", "missing ']'"},
                 Case{"[1.2.3.4]:80", "IPv6 addresses only"},
                 Case{"[fe80::1%no-such-if]:80", "unknown IPv6 zone"}, Case{"", "host:port"}}) {
    auto a = SocketAddress::parse(c.text);
    INFO(c.text);
    REQUIRE_FALSE(a.ok());
    CHECK(absl::IsInvalidArgument(a.status()));
    CHECK_THAT(std::string(a.status().message()), Catch::Contains(c.says));
  }
}

TEST_CASE("SocketAddress: ports, equality and hashing", "[address]") {
  auto a = SocketAddress::parse("10.0.0.1:1").value();
  a.set_port(2);
  CHECK(a.to_string() == "10.0.0.1:2");
  absl::flat_hash_set<SocketAddress> set{a, SocketAddress::loopback_v4(2),
                                         SocketAddress::loopback_v6(2)};
  CHECK(set.size() == 3);
  CHECK(set.contains(SocketAddress::parse("10.0.0.1:2").value()));
  CHECK_FALSE(set.contains(SocketAddress::parse("10.0.0.1:3").value()));
  SocketAddress unspecified;
  CHECK(unspecified.size() == 0);
  CHECK(unspecified.to_string() == "(unspecified)");
}

TEST_CASE("SocketAddress converts to and from Asio endpoints", "[address][asio]") {
  auto a = SocketAddress::parse("[::1]:7000").value();
  auto e = a.to_endpoint<asio::ip::tcp::endpoint>();
  CHECK(e.address().to_string() == "::1");
  CHECK(e.port() == 7000);
  asio::ip::udp::endpoint u(asio::ip::make_address("192.0.2.9"), 53);
  auto b = SocketAddress::from_endpoint(u);
  REQUIRE(b.ok());
  CHECK(b->to_string() == "192.0.2.9:53");
}

TEST_CASE("UnixAddress: paths, abstract names, unnamed", "[address][unix]") {
  auto p = UnixAddress::from_path("/tmp/x.sock");
  REQUIRE(p.ok());
  CHECK(p->is_pathname());
  CHECK(p->path() == "/tmp/x.sock");
  CHECK(p->to_string() == "/tmp/x.sock");

  auto a = UnixAddress::abstract("weft-test");
  REQUIRE(a.ok());
  CHECK(a->is_abstract());
  CHECK(a->abstract_name() == "weft-test");
  CHECK(a->to_string() == "@weft-test");
  // The kernel's form, a leading NUL, is the same address.
  CHECK(UnixAddress::from_path(std::string("\0weft-test", 10)).value() == *a);
  // "@" is for display only: from_path("@x") is a relative path.
  CHECK(UnixAddress::from_path("@weft-test").value().is_pathname());

  UnixAddress unnamed;
  CHECK(unnamed.is_unnamed());
  CHECK(unnamed.to_string() == "(unnamed)");
  CHECK_FALSE(unnamed == *a);
}

TEST_CASE("UnixAddress refuses empty, overlong and NUL-holding paths", "[address][unix]") {
  CHECK(absl::IsInvalidArgument(UnixAddress::from_path("").status()));
  CHECK(absl::IsInvalidArgument(UnixAddress::from_path(std::string("a\0b", 3)).status()));
  const std::string longest(UnixAddress::kMaxLength, 'x');
  CHECK(UnixAddress::from_path(longest).ok());
  auto too_long = UnixAddress::from_path(longest + "x");
  REQUIRE_FALSE(too_long.ok());
  CHECK_THAT(std::string(too_long.status().message()), Catch::Contains("the limit is 107"));
  CHECK(UnixAddress::abstract(longest).ok());
  CHECK(absl::IsInvalidArgument(UnixAddress::abstract(longest + "x").status()));
}
