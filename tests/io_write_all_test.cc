// weft::write_all (io/write_all.h), the one loop over partial writes that
// io.h, splice.h and Async<T>::write_all share: every byte in order however
// little each write takes, the writer's error unchanged, and a write that
// takes 0 bytes reported as DataLoss instead of a loop that never ends.
//
// A pipe or socket never takes 0 bytes of a non-empty write (write(2)
// blocks or fails with EAGAIN), so the 0-byte case runs on a scripted
// writer; the Async<T> cases check that its write_all goes through the
// same loop for what a pipe can do.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "net_test_util.h"
#include "weft.h"

namespace {

// Takes at most the next entry of `limits` bytes per write (the last one
// repeats); an entry of -1 fails that write with Unavailable.
struct ScriptedWriter {
  explicit ScriptedWriter(std::vector<int> l) : limits(std::move(l)) {}

  std::vector<int> limits;
  size_t calls = 0;
  std::string got;

  weft::Task<absl::StatusOr<size_t>> write(std::span<const std::byte> buf) {
    const int limit = limits[std::min(calls, limits.size() - 1)];
    ++calls;
    if (limit < 0) co_return absl::UnavailableError("scripted failure");
    const size_t n = std::min(buf.size(), static_cast<size_t>(limit));
    got.append(reinterpret_cast<const char*>(buf.data()), n);
    co_return n;
  }
};
static_assert(weft::AsyncWrite<ScriptedWriter>);

}  // namespace

TEST_CASE("write_all: partial writes deliver every byte in order") {
  ScriptedWriter w({1, 7, 3});
  const std::string data = weft_test::pattern_string(1000, 1);
  const absl::Status st = weft::block_on(weft::write_all(w, std::string_view(data)));
  weft_test::require_ok(st);
  CHECK(w.got == data);
}

TEST_CASE("write_all: a write that takes 0 bytes is DataLoss, not a loop") {
  ScriptedWriter w({3, 0});
  const absl::Status st = weft::block_on(weft::write_all(w, std::string_view("hello world")));
  CHECK(absl::IsDataLoss(st));
  CHECK(st.message().find("after 3 of 11") != std::string_view::npos);
  CHECK(w.calls == 2);
  CHECK(w.got == "hel");
}

TEST_CASE("write_all: the writer's error comes back unchanged") {
  ScriptedWriter w({4, -1});
  const absl::Status st = weft::block_on(weft::write_all(w, std::string_view("hello world")));
  CHECK(absl::IsUnavailable(st));
  CHECK(st.message() == "scripted failure");
}

TEST_CASE("write_all: an empty buffer writes nothing and succeeds") {
  ScriptedWriter w({0});
  const absl::Status st = weft::block_on(weft::write_all(w, std::string_view()));
  weft_test::require_ok(st);
  CHECK(w.calls == 0);
}

// Async<T>::write_all through a pipe smaller than the data: it waits for
// room and loses nothing while a reader drains the other end.
TEST_CASE("Async::write_all: more than a pipe holds arrives whole") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  auto rd = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(fds[0]));
  auto wr = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(fds[1]));
  weft_test::require_ok(rd);
  weft_test::require_ok(wr);
  const std::string data = weft_test::pattern_string(1 << 20, 2);
  struct Outcome {
    absl::Status wrote;
    absl::StatusOr<std::string> received;
  };
  const Outcome o = weft::block_on([](weft::Async<weft::OwnedFd>& r, weft::Async<weft::OwnedFd>& w,
                                      const std::string& data) -> weft::Task<Outcome> {
    auto writer = weft::spawn([](weft::Async<weft::OwnedFd>& w,
                                 const std::string& data) -> weft::Task<absl::Status> {
      absl::Status st = co_await w.write_all(data.data(), data.size());
      w.close();
      co_return st;
    }(w, data));
    Outcome o;
    o.received = co_await weft::read_to_string(r, data.size() + 1);
    o.wrote = co_await std::move(writer);
    co_return o;
  }(*rd, *wr, data));
  weft_test::require_ok(o.wrote);
  weft_test::require_ok(o.received);
  CHECK(*o.received == data);
}

TEST_CASE("Async::write_all: an empty buffer succeeds without writing") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  auto rd = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(fds[0]));
  auto wr = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(fds[1]));
  weft_test::require_ok(rd);
  weft_test::require_ok(wr);
  const absl::Status st = weft::block_on(wr->write_all("", 0));
  weft_test::require_ok(st);
  wr->close();
  const absl::StatusOr<std::string> got = weft::block_on(weft::read_to_string(*rd, 16));
  weft_test::require_ok(got);
  CHECK(got->empty());
}
