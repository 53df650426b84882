// io/splice.h: copy() between two fd streams moves bytes with splice(2)
// (issue #12), falls back to its buffer when the kernel refuses, and loses
// nothing either way.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::Async;
using weft::OwnedFd;
using weft::Task;
using weft::TcpStream;

static_assert(weft::SpliceStream<TcpStream> && weft::SpliceStream<weft::UnixStream>);
static_assert(weft::SpliceStream<Async<OwnedFd>>);
static_assert(!weft::SpliceStream<weft::DuplexStream>);

namespace {

// A pipe's two ends as Async streams.
std::pair<Async<OwnedFd>, Async<OwnedFd>> async_pipe() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  auto r = Async<OwnedFd>::create(OwnedFd(fds[0]));
  auto w = Async<OwnedFd>::create(OwnedFd(fds[1]));
  REQUIRE(r.ok());
  REQUIRE(w.ok());
  return {std::move(*r), std::move(*w)};
}

template <class W>
Task<absl::Status> write_then_close(W& w, const std::string& data) {
  absl::Status st = co_await weft::write_all(w, std::span<const std::byte>(
                                                    reinterpret_cast<const std::byte*>(data.data()),
                                                    data.size()));
  w.close();
  co_return st;
}

struct Outcome {
  absl::StatusOr<uint64_t> copied = uint64_t{0};
  absl::Status wrote;
  absl::StatusOr<std::string> received;
};

// source_w -> [source_r] --(how)--> [dest_w] -> dest_r, with the writer, the
// copy and the reader on three tasks; the copier closes dest_w when done.
template <class SR, class SW, class DR, class DW, class Copy>
Task<Outcome> pump(SR& source_r, SW& source_w, DR& dest_r, DW& dest_w, const std::string& data,
                   Copy how) {
  auto writer = weft::spawn(write_then_close(source_w, data));
  auto copier = weft::spawn([](SR& r, DW& w, Copy how) -> Task<absl::StatusOr<uint64_t>> {
    absl::StatusOr<uint64_t> n = co_await how(r, w);
    w.close();
    co_return n;
  }(source_r, dest_w, how));
  Outcome o;
  o.received = co_await weft::read_to_string(dest_r, data.size() + 1);
  o.wrote = co_await std::move(writer);
  o.copied = co_await std::move(copier);
  co_return o;
}

constexpr auto kSplice = [](auto& r, auto& w) { return weft::splice_copy(r, w); };
constexpr auto kCopy = [](auto& r, auto& w) { return weft::copy(r, w); };

}  // namespace

TEST_CASE("splice_copy moves 8 MiB from TCP to TCP, byte for byte", "[io][splice]") {
  auto [a, b] = weft_test::take(TcpStream::pair());
  auto [c, d] = weft_test::take(TcpStream::pair());
  const std::string data = weft_test::pattern_string(8 << 20, 1);
  // splice_copy has no buffer path: success means splice moved every byte.
  Outcome o = weft::block_on(pump(b, a, d, c, data, kSplice));
  REQUIRE(o.wrote.ok());
  REQUIRE(o.copied.ok());
  CHECK(*o.copied == data.size());
  REQUIRE(o.received.ok());
  CHECK(o.received->size() == data.size());
  CHECK(*o.received == data);
}

TEST_CASE("splice_copy moves a pipe into a TCP stream", "[io][splice]") {
  auto [pr, pw] = async_pipe();
  auto [c, d] = weft_test::take(TcpStream::pair());
  const std::string data = weft_test::pattern_string(3 << 20, 2);
  Outcome o = weft::block_on(pump(pr, pw, d, c, data, kSplice));
  REQUIRE(o.copied.ok());
  CHECK(*o.copied == data.size());
  REQUIRE(o.received.ok());
  CHECK(*o.received == data);
}

TEST_CASE("a destination that refuses splice: splice_copy says so, copy falls back, nothing lost",
          "[io][splice]") {
  // splice(2) refuses an O_APPEND destination that is not a pipe with
  // EINVAL; a socket's write(2) ignores the flag.
  SECTION("splice_copy: FailedPrecondition, and what it took went through a buffer") {
    auto [a, b] = weft_test::take(TcpStream::pair());
    auto [c, d] = weft_test::take(TcpStream::pair());
    REQUIRE(::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_APPEND) == 0);
    const std::string data = weft_test::pattern_string(1000, 3);
    Outcome o = weft::block_on(pump(b, a, d, c, data, kSplice));
    REQUIRE_FALSE(o.copied.ok());
    CHECK(o.copied.status().code() == absl::StatusCode::kFailedPrecondition);
    // The 1000 bytes fit in the first splice from the socket: they reached
    // the destination anyway.
    REQUIRE(o.received.ok());
    CHECK(*o.received == data);
  }
  SECTION("copy: every byte arrives") {
    auto [a, b] = weft_test::take(TcpStream::pair());
    auto [c, d] = weft_test::take(TcpStream::pair());
    REQUIRE(::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_APPEND) == 0);
    const std::string data = weft_test::pattern_string(2 << 20, 4);
    Outcome o = weft::block_on(pump(b, a, d, c, data, kCopy));
    REQUIRE(o.copied.ok());
    CHECK(*o.copied == data.size());
    REQUIRE(o.received.ok());
    CHECK(*o.received == data);
  }
}

TEST_CASE("splice_copy into a closed peer is an error, not a hang or a signal", "[io][splice]") {
  auto [a, b] = weft_test::take(TcpStream::pair());
  auto [c, d] = weft_test::take(TcpStream::pair());
  d.close();  // nobody will ever read what reaches c
  const std::string data = weft_test::pattern_string(4 << 20, 5);
  absl::StatusOr<uint64_t> copied = weft::block_on([](TcpStream& a, TcpStream& b, TcpStream& c,
                                                      const std::string& data)
                                                       -> Task<absl::StatusOr<uint64_t>> {
    auto writer = weft::spawn(write_then_close(a, data));
    absl::StatusOr<uint64_t> n = co_await weft::splice_copy(b, c);
    b.close();  // lets a blocked writer see the end
    (void)co_await std::move(writer);
    co_return n;
  }(a, b, c, data));
  REQUIRE_FALSE(copied.ok());
  INFO(copied.status().ToString());
  // ECONNRESET (Unavailable) or EPIPE (FailedPrecondition), by timing.
  CHECK((copied.status().code() == absl::StatusCode::kUnavailable ||
         copied.status().code() == absl::StatusCode::kFailedPrecondition));
}
