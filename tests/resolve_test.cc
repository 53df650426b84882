// resolve(): numeric addresses without the pool, names through getaddrinfo
// on the blocking pool, and clear errors.
#include <catch2/catch.hpp>

#include "weft.h"

TEST_CASE("resolve parses numeric addresses", "[resolve]") {
  auto r = weft::block_on(weft::resolve("127.0.0.1:8080"));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(r->front().to_string() == "127.0.0.1:8080");
  auto v6 = weft::block_on(weft::resolve("::1", 9));
  REQUIRE(v6.ok());
  CHECK(v6->front().port() == 9);
}

TEST_CASE("resolve looks up localhost on the blocking pool", "[resolve]") {
  // /etc/hosts names localhost on every Debian system, and the Bazel sandbox
  // can read it; no network is needed.
  auto r = weft::block_on(weft::resolve("localhost:7"));
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->empty());
  for (const auto& a : *r) {
    CHECK(a.port() == 7);
    CHECK((a.to_string() == "127.0.0.1:7" || a.to_string() == "[::1]:7"));
  }
}

TEST_CASE("resolve reports bad input and unknown names", "[resolve]") {
  CHECK(absl::IsInvalidArgument(weft::block_on(weft::resolve("no-port")).status()));
  CHECK(absl::IsInvalidArgument(weft::block_on(weft::resolve("host:99999")).status()));
  // .invalid is reserved (RFC 2606): it never resolves.
  auto r = weft::block_on(weft::resolve("no-such-host.invalid:80"));
  REQUIRE_FALSE(r.ok());
  CHECK((absl::IsNotFound(r.status()) || absl::IsUnavailable(r.status())));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("no-such-host.invalid"));
}
