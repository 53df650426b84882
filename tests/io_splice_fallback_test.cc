// io/splice.h's fallback for a destination that refuses splice(2): what
// the first splice took from the source goes out through write_all
// (io/write_all.h), which must wait for room in a full destination and
// lose nothing, whether splice_copy stops there or copy() goes on.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::Task;
using weft::TcpStream;

namespace {

// A destination that refuses splice (O_APPEND on a socket: splice says
// EINVAL, write(2) ignores the flag) and fills after a few KiB: small
// buffers on both ends, so a 64 KiB fallback write cannot go out at once.
void make_small_refusing_destination(TcpStream& dest, TcpStream& dest_peer) {
  const int small = 4096;
  REQUIRE(::setsockopt(dest.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  REQUIRE(::setsockopt(dest_peer.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
  REQUIRE(::fcntl(dest.fd(), F_SETFL, ::fcntl(dest.fd(), F_GETFL) | O_APPEND) == 0);
}

Task<absl::Status> write_then_shutdown(TcpStream& w, const std::string& data) {
  absl::Status st = co_await weft::write_all(w, data);
  (void)w.shutdown(weft::Shutdown::kWrite);
  co_return st;
}

struct Outcome {
  absl::StatusOr<uint64_t> copied = uint64_t{0};
  absl::Status wrote;
  absl::StatusOr<std::string> received;  // at the destination's peer
  absl::StatusOr<std::string> left;      // still in the source afterwards
};

// a -> b --(how)--> c -> d: the writer, the copy and the destination's
// reader run at once; the copier shuts c down when done; then the rest of b
// is read.
template <class Copy>
Task<Outcome> run(TcpStream& a, TcpStream& b, TcpStream& c, TcpStream& d,
                  const std::string& data, Copy how) {
  auto writer = weft::spawn(write_then_shutdown(a, data));
  auto copier = weft::spawn([](TcpStream& r, TcpStream& w, Copy how)
                                -> Task<absl::StatusOr<uint64_t>> {
    absl::StatusOr<uint64_t> n = co_await how(r, w);
    (void)w.shutdown(weft::Shutdown::kWrite);
    co_return n;
  }(b, c, how));
  Outcome o;
  o.received = co_await weft::read_to_string(d, data.size() + 1);
  o.copied = co_await std::move(copier);
  o.left = co_await weft::read_to_string(b, data.size() + 1);
  o.wrote = co_await std::move(writer);
  co_return o;
}

constexpr auto kSplice = [](auto& r, auto& w) { return weft::splice_copy(r, w); };
constexpr auto kCopy = [](auto& r, auto& w) { return weft::copy(r, w); };

}  // namespace

TEST_CASE("splice fallback into a full destination: splice_copy waits for room, loses nothing",
          "[io][splice]") {
  auto [a, b] = weft_test::take(TcpStream::pair());
  auto [c, d] = weft_test::take(TcpStream::pair());
  make_small_refusing_destination(c, d);
  const std::string data = weft_test::pattern_string(192 << 10, 11);
  Outcome o = weft::block_on(run(a, b, c, d, data, kSplice));
  REQUIRE_FALSE(o.copied.ok());
  CHECK(o.copied.status().code() == absl::StatusCode::kFailedPrecondition);
  weft_test::require_ok(o.wrote);
  weft_test::require_ok(o.received);
  weft_test::require_ok(o.left);
  // What the first splice took reached d through the buffer; the rest is
  // still in b: together, every byte once, in order.
  CHECK_FALSE(o.received->empty());
  CHECK(o.received->size() + o.left->size() == data.size());
  CHECK(*o.received + *o.left == data);
}

TEST_CASE("splice fallback into a full destination: copy() goes on and every byte arrives",
          "[io][splice]") {
  auto [a, b] = weft_test::take(TcpStream::pair());
  auto [c, d] = weft_test::take(TcpStream::pair());
  make_small_refusing_destination(c, d);
  const std::string data = weft_test::pattern_string(192 << 10, 12);
  Outcome o = weft::block_on(run(a, b, c, d, data, kCopy));
  weft_test::require_ok(o.copied);
  CHECK(*o.copied == data.size());
  weft_test::require_ok(o.wrote);
  weft_test::require_ok(o.received);
  CHECK(o.received->size() == data.size());
  CHECK(*o.received == data);
  weft_test::require_ok(o.left);
  CHECK(o.left->empty());
}
