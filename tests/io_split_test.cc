// io/: split() halves used by two tasks at once, a large transfer in both
// directions at the same time, over TcpStream pairs and duplex; borrowed
// and owning forms.
#include <catch2/catch.hpp>

#include <string>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::ReadHalf;
using weft::Task;
using weft::TcpStream;
using weft::WriteHalf;
using weft_test::require_ok;

namespace {

constexpr size_t kSize = 4 << 20;

std::string pattern(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  weft_test::fill_pattern(seed, 0, reinterpret_cast<uint8_t*>(s.data()), n);
  return s;
}

template <class S>
Task<absl::Status> send(WriteHalf<S> w, uint64_t seed) {
  const std::string data = pattern(kSize, seed);
  absl::Status st = co_await weft::write_all(w, data);
  if (st.ok()) {
    if constexpr (std::is_same_v<S, weft::DuplexStream>) {
      w.shutdown();
    } else {
      st = w.shutdown();
    }
  }
  co_return st;
}

// Reads to the end; true when it is exactly the pattern of `seed`.
template <class S>
Task<absl::StatusOr<bool>> receive(ReadHalf<S> r, uint64_t seed) {
  absl::StatusOr<std::string> got = co_await weft::read_to_string(r, kSize);
  if (!got.ok()) co_return got.status();
  co_return *got == pattern(kSize, seed);
}

template <class T>
Task<T> join(weft::JoinHandle<T> h) {
  co_return co_await h;
}

// Four tasks at once: each end's reader and writer, both directions.
template <class S>
void both_ways(std::pair<ReadHalf<S>, WriteHalf<S>> x, std::pair<ReadHalf<S>, WriteHalf<S>> y) {
  auto xw = weft::spawn(send(std::move(x.second), 11));
  auto yw = weft::spawn(send(std::move(y.second), 22));
  auto xr = weft::spawn(receive(std::move(x.first), 22));
  auto yr = weft::spawn(receive(std::move(y.first), 11));
  require_ok(weft::block_on(join(std::move(xw))));
  require_ok(weft::block_on(join(std::move(yw))));
  absl::StatusOr<bool> a = weft::block_on(join(std::move(xr)));
  require_ok(a);
  CHECK(*a);
  absl::StatusOr<bool> b = weft::block_on(join(std::move(yr)));
  require_ok(b);
  CHECK(*b);
}

}  // namespace

TEST_CASE("split: owned halves of a TcpStream pair, both directions at once", "[io][split]") {
  auto p = TcpStream::pair();
  require_ok(p);
  both_ways(weft::split(std::move(p->first)), weft::split(std::move(p->second)));
}

TEST_CASE("split: borrowed halves of a TcpStream pair, both directions at once", "[io][split]") {
  auto p = TcpStream::pair();
  require_ok(p);
  both_ways(weft::split(p->first), weft::split(p->second));  // p outlives the tasks
}

TEST_CASE("split: halves of duplex, both directions at once", "[io][split]") {
  auto [a, b] = weft::duplex(4096);
  both_ways(weft::split(std::move(a)), weft::split(std::move(b)));
}

TEST_CASE("split: the owned stream closes when both halves are gone", "[io][split]") {
  auto [a, b] = weft::duplex(16);
  {
    auto halves = weft::split(std::move(a));
    (void)halves;
  }
  absl::StatusOr<std::string> s = weft::block_on(weft::read_to_string(b));
  require_ok(s);
  CHECK(s->empty());  // end of stream: the DuplexStream was destroyed
}
