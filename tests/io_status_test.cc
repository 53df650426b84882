// errno -> absl::Status (async_fd/io_status.*): the codes a user would
// recognise for bind/connect failures, the messages, and no call into
// Debian's uninstrumented abseil StrError (a TSan report before).
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "weft.h"

namespace {

using weft::errno_status;

// First in the file: the message path must run on two threads that TSan
// sees as unordered, before anything else in this process formatted an
// errno. abseil's StrError built its message table on the first call and
// read it without a synchronisation TSan can see (the library is not
// instrumented), so --config=tsan failed this test with a data race report.
TEST_CASE("errno messages from two unordered threads: no TSan report", "[io_status]") {
  std::atomic<bool> first_done{false};
  std::string second_message;
  std::thread second([&] {
    // Relaxed on purpose, pairing with the relaxed store below: no
    // happens-before, so TSan treats the two errno_status calls as concurrent.
    while (!first_done.load(std::memory_order_relaxed)) std::this_thread::yield();
    second_message = std::string(errno_status(ECONNRESET, "read").message());
  });
  const absl::Status first = errno_status(ECONNRESET, "write");
  first_done.store(true, std::memory_order_relaxed);  // pairs with the load above (no ordering)
  second.join();
  CHECK(first.message() == std::string("weft: write: ") + std::strerror(ECONNRESET));
  CHECK(second_message == std::string("weft: read: ") + std::strerror(ECONNRESET));
}

TEST_CASE("bind and connect errnos map to codes a user recognises", "[io_status]") {
  CHECK(absl::IsUnavailable(errno_status(EADDRNOTAVAIL, "bind")));  // absl: AlreadyExists
  CHECK(absl::IsAlreadyExists(errno_status(EADDRINUSE, "bind")));   // absl: FailedPrecondition
  CHECK(absl::IsFailedPrecondition(errno_status(EALREADY, "connect")));
  CHECK(absl::IsPermissionDenied(errno_status(EACCES, "bind")));
  CHECK(absl::IsPermissionDenied(errno_status(EPERM, "bind")));
  CHECK(absl::IsUnavailable(errno_status(ECONNREFUSED, "connect")));
  CHECK(absl::IsUnavailable(errno_status(ENETUNREACH, "connect")));
  CHECK(absl::IsDeadlineExceeded(errno_status(ETIMEDOUT, "connect")));
  CHECK(absl::IsResourceExhausted(errno_status(EMFILE, "accept")));
  CHECK(absl::IsUnimplemented(errno_status(EAFNOSUPPORT, "socket")));
  CHECK(absl::IsInvalidArgument(errno_status(EINVAL, "bind")));
  CHECK(absl::IsFailedPrecondition(errno_status(EPIPE, "write")));
  CHECK(absl::IsUnknown(errno_status(4095, "odd")));
}

TEST_CASE("every errno absl knows keeps absl's code unless listed", "[io_status]") {
  for (int e = 1; e < 200; ++e) {
    if (e == EADDRNOTAVAIL || e == EADDRINUSE || e == EALREADY) continue;
    INFO("errno " << e << " " << std::strerror(e));
    CHECK(weft::errno_code(e) == absl::ErrnoToStatusCode(e));
  }
}

TEST_CASE("messages: what failed, then the system's text or weft's own", "[io_status]") {
  CHECK(errno_status(ECONNREFUSED, "TcpStream::connect(127.0.0.1:1)").message() ==
        std::string("weft: TcpStream::connect(127.0.0.1:1): ") + std::strerror(ECONNREFUSED));
  const std::string not_here(errno_status(EADDRNOTAVAIL, "bind").message());
  CHECK_THAT(not_here, Catch::StartsWith("weft: bind: address not available"));
  CHECK_THAT(weft::errno_message(4095), Catch::Contains("4095"));  // "Unknown error 4095"
}

TEST_CASE("binding an address that is not this machine's: Unavailable, not AlreadyExists",
          "[io_status]") {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a local interface.
  auto addr = weft::SocketAddress::from_ip("192.0.2.1", 0);
  REQUIRE(addr.ok());
  auto listener = weft::TcpListener::bind(*addr);
  REQUIRE_FALSE(listener.ok());
  INFO(listener.status().ToString());
  CHECK(absl::IsUnavailable(listener.status()));
  CHECK_THAT(std::string(listener.status().message()),
             Catch::Contains("bind: address not available"));
}

TEST_CASE("binding a port in use: AlreadyExists", "[io_status]") {
  auto first = weft::TcpListener::bind(weft::SocketAddress::from_ip("127.0.0.1", 0).value());
  REQUIRE(first.ok());
  auto second = weft::TcpListener::bind(first->local_address().value());
  REQUIRE_FALSE(second.ok());
  INFO(second.status().ToString());
  CHECK(absl::IsAlreadyExists(second.status()));
}

}  // namespace
