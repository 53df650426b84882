// io/: the AsyncRead/AsyncWrite concepts over every stream type, the
// generic helpers (read_exact, read_to_end, read_to_string, write_all,
// copy) over TcpStream::pair, UnixStream::pair and duplex, and duplex's own
// end-of-stream and backpressure.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::DuplexStream;
using weft::Task;
using weft::TcpStream;
using weft::UnixStream;
using weft_test::require_ok;

namespace {

// A user's own stream: reads from a string, one byte per call.
struct OneByteReader {
  std::string data;
  size_t pos = 0;
  Task<absl::StatusOr<size_t>> read(std::span<std::byte> buf) {
    if (buf.empty() || pos == data.size()) co_return size_t{0};
    buf[0] = static_cast<std::byte>(data[pos++]);
    co_return size_t{1};
  }
};

// A user's own sink.
struct StringWriter {
  std::string out;
  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data) {
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    co_return data.size();
  }
};

}  // namespace

// Each real stream type satisfies the concepts as it is.
static_assert(weft::AsyncRead<TcpStream> && weft::AsyncWrite<TcpStream>);
static_assert(weft::AsyncRead<UnixStream> && weft::AsyncWrite<UnixStream>);
static_assert(weft::AsyncRead<weft::Async<weft::OwnedFd>> &&
              weft::AsyncWrite<weft::Async<weft::OwnedFd>>);
static_assert(weft::AsyncRead<weft::Unblock<weft::BlockingFd>> &&
              weft::AsyncWrite<weft::Unblock<weft::BlockingFd>>);
static_assert(weft::AsyncRead<weft::fs::File> && weft::AsyncWrite<weft::fs::File>);
static_assert(weft::AsyncRead<DuplexStream> && weft::AsyncWrite<DuplexStream>);
static_assert(weft::AsyncRead<OneByteReader> && !weft::AsyncWrite<OneByteReader>);
static_assert(weft::AsyncWrite<StringWriter> && !weft::AsyncRead<StringWriter>);
static_assert(weft::AsyncRead<weft::BufReader<TcpStream>>);
static_assert(weft::AsyncWrite<weft::BufWriter<DuplexStream>>);
static_assert(weft::AsyncRead<weft::ReadHalf<TcpStream>> &&
              weft::AsyncWrite<weft::WriteHalf<TcpStream>>);
static_assert(!weft::AsyncRead<int> && !weft::AsyncWrite<std::string>);
// split() only for streams two tasks may read and write at once.
static_assert(weft::FullDuplexStream<TcpStream> && weft::FullDuplexStream<DuplexStream>);
static_assert(!weft::FullDuplexStream<weft::Unblock<weft::BlockingFd>>);
static_assert(!weft::FullDuplexStream<weft::fs::File>);

namespace {

std::string pattern(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  weft_test::fill_pattern(seed, 0, reinterpret_cast<uint8_t*>(s.data()), n);
  return s;
}

// These run on executor threads too: they return statuses, and the test
// thread asserts (Catch2 is not thread-safe).
absl::Status shut_write(TcpStream& s) { return s.shutdown(weft::Shutdown::kWrite); }
absl::Status shut_write(UnixStream& s) { return s.shutdown(weft::Shutdown::kWrite); }
absl::Status shut_write(DuplexStream& s) {
  s.shutdown();
  return absl::OkStatus();
}

// Writes `data` and ends the stream; named (not a lambda) for g++ 12.
template <class S>
Task<absl::Status> send_all_and_close(S& s, std::string data) {
  absl::Status st = co_await weft::write_all(s, data);
  if (st.ok()) st = shut_write(s);
  co_return st;
}

template <class S>
Task<void> helpers_round_trip(S& a, S& b) {
  const std::string data = pattern(300'000, 7);
  auto writer = weft::spawn(send_all_and_close(a, data));
  char head[10];
  require_ok(co_await weft::read_exact(b, head, sizeof(head)));
  CHECK(std::string(head, 10) == data.substr(0, 10));
  std::vector<char> rest;
  absl::StatusOr<size_t> n = co_await weft::read_to_end(b, rest, data.size());
  require_ok(n);
  CHECK(*n == data.size() - 10);
  CHECK(std::string(rest.begin(), rest.end()) == data.substr(10));
  require_ok(co_await writer);
  // At the end: read_exact reports OutOfRange, read_to_string "".
  absl::Status st = co_await weft::read_exact(b, head, 1);
  CHECK(st.code() == absl::StatusCode::kOutOfRange);
  absl::StatusOr<std::string> s = co_await weft::read_to_string(b);
  require_ok(s);
  CHECK(s->empty());
}

template <class S>
Task<void> read_to_end_cap(S& a, S& b, S& c, S& d) {
  // 1000 bytes with a cap of 999: ResourceExhausted, and what was read kept.
  auto w1 = weft::spawn(send_all_and_close(a, pattern(1000, 1)));
  std::string out = "x";
  absl::StatusOr<size_t> n = co_await weft::read_to_end(b, out, 999);
  CHECK(n.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(out.size() == 1 + 1000);  // max_bytes + the one that proves it
  CHECK(out.substr(1) == pattern(1000, 1));
  require_ok(co_await w1);
  // Exactly at the cap: fine.
  auto w2 = weft::spawn(send_all_and_close(c, pattern(1000, 2)));
  absl::StatusOr<std::string> s = co_await weft::read_to_string(d, 1000);
  require_ok(s);
  CHECK(*s == pattern(1000, 2));
  require_ok(co_await w2);
}

}  // namespace

TEST_CASE("io: read_exact, read_to_end, write_all over a TcpStream pair", "[io]") {
  auto p = TcpStream::pair();
  require_ok(p);
  CHECK(p->first.local_address().value() == p->second.peer_address().value());
  CHECK(p->second.local_address().value() == p->first.peer_address().value());
  weft::block_on(helpers_round_trip(p->first, p->second));
}

TEST_CASE("io: read_exact, read_to_end, write_all over a UnixStream pair", "[io]") {
  auto p = UnixStream::pair();
  require_ok(p);
  weft::block_on(helpers_round_trip(p->first, p->second));
}

TEST_CASE("io: read_exact, read_to_end, write_all over duplex", "[io][duplex]") {
  auto [a, b] = weft::duplex(1000);
  weft::block_on(helpers_round_trip(a, b));
}

TEST_CASE("io: read_to_end stops past its cap (TcpStream and duplex)", "[io]") {
  auto p = TcpStream::pair();
  require_ok(p);
  auto q = TcpStream::pair();
  require_ok(q);
  weft::block_on(read_to_end_cap(p->first, p->second, q->first, q->second));
  auto [a, b] = weft::duplex(100);
  auto [c, d] = weft::duplex(100);
  weft::block_on(read_to_end_cap(a, b, c, d));
}

TEST_CASE("io: helpers over a user's own reader and writer", "[io]") {
  OneByteReader r{"hello world"};
  StringWriter w;
  absl::StatusOr<uint64_t> n = weft::block_on(weft::copy(r, w));
  require_ok(n);
  CHECK(*n == 11);
  CHECK(w.out == "hello world");
}

namespace {

template <class R, class W>
Task<absl::StatusOr<uint64_t>> copy_and_close(R& r, W& w) {
  absl::StatusOr<uint64_t> n = co_await weft::copy(r, w);
  if (absl::Status st = shut_write(w); n.ok() && !st.ok()) co_return st;
  co_return n;
}

// Writer -> (a,b) -> copy -> (c,d) -> reader, with the three on other tasks.
template <class S>
Task<void> copy_through(S& a, S& b, S& c, S& d, size_t size) {
  const std::string data = pattern(size, 3);
  auto writer = weft::spawn(send_all_and_close(a, data));
  auto copier = weft::spawn(copy_and_close(b, d));
  absl::StatusOr<std::string> got = co_await weft::read_to_string(c, size);
  require_ok(got);
  CHECK(got->size() == size);
  CHECK(*got == data);
  require_ok(co_await writer);
  absl::StatusOr<uint64_t> n = co_await copier;
  require_ok(n);
  CHECK(*n == size);
}

}  // namespace

TEST_CASE("io: copy 10 MiB through duplex pipes", "[io][duplex]") {
  auto [a, b] = weft::duplex(4096);
  auto [c, d] = weft::duplex(8192);
  // (a -> b) then copy b -> d, and the test reads c.
  weft::block_on(copy_through(a, b, c, d, 10 << 20));
}

TEST_CASE("io: copy 4 MiB between TcpStream pairs", "[io]") {
  auto p = TcpStream::pair();
  require_ok(p);
  auto q = TcpStream::pair();
  require_ok(q);
  weft::block_on(copy_through(p->first, p->second, q->second, q->first, 4 << 20));
}

namespace {

Task<void> duplex_eof_on_drop() {
  auto [a, b] = weft::duplex(16);
  require_ok(co_await weft::write_all(a, std::string_view("abc")));
  { DuplexStream gone = std::move(a); }  // destroyed: b reads "abc", then the end
  absl::StatusOr<std::string> s = co_await weft::read_to_string(b);
  require_ok(s);
  CHECK(*s == "abc");
  // Writing towards a destroyed end: broken pipe.
  absl::Status st = co_await weft::write_all(b, std::string_view("x"));
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
}

Task<void> duplex_shutdown_half() {
  auto [a, b] = weft::duplex(16);
  a.shutdown();
  std::byte x[4];
  absl::StatusOr<size_t> n = co_await b.read(x);
  require_ok(n);
  CHECK(*n == 0);
  // The other direction still works.
  require_ok(co_await weft::write_all(b, std::string_view("ok")));
  char got[2];
  require_ok(co_await weft::read_exact(a, got, 2));
  CHECK(std::string(got, 2) == "ok");
  // Writing after one's own shutdown fails.
  absl::Status st = co_await weft::write_all(a, std::string_view("no"));
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
}

Task<absl::StatusOr<size_t>> write_some(DuplexStream& s, std::string data) {
  co_return co_await s.write(std::as_bytes(std::span(data.data(), data.size())));
}

Task<void> duplex_backpressure() {
  auto [a, b] = weft::duplex(8);
  // One write accepts what fits.
  absl::StatusOr<size_t> n = co_await write_some(a, "0123456789ab");
  require_ok(n);
  CHECK(*n == 8);
  // Full: a write waits (never completes while nobody reads).
  auto late = co_await weft::timeout(std::chrono::milliseconds(50), write_some(a, "X"));
  CHECK(late.status().code() == absl::StatusCode::kDeadlineExceeded);
  // A writer waiting on the full pipe is released by a read.
  auto writer = weft::spawn(write_some(a, "Y"));
  char got[8];
  require_ok(co_await weft::read_exact(b, got, 8));
  CHECK(std::string(got, 8) == "01234567");
  absl::StatusOr<size_t> w = co_await writer;
  require_ok(w);
  CHECK(*w == 1);
  char y;
  require_ok(co_await weft::read_exact(b, &y, 1));
  CHECK(y == 'Y');
}

}  // namespace

TEST_CASE("duplex: dropping an end ends the stream; writes to it fail", "[duplex]") {
  weft::block_on(duplex_eof_on_drop());
}

TEST_CASE("duplex: shutdown ends one direction only", "[duplex]") {
  weft::block_on(duplex_shutdown_half());
}

TEST_CASE("duplex: writes wait at capacity until a read makes room", "[duplex]") {
  weft::block_on(duplex_backpressure());
}
