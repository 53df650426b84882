// Header hygiene: a user's translation unit that includes weft.h, compiled
// with -Wall -Wextra -Werror (tests/BUILD.bazel) and weft's headers as the
// user's own, not system, headers. Templates warn only when instantiated, so
// this instantiates the public templates over the types that warned before
// (issue #13): when_all over Task<absl::Status> or Task<MutexGuard> reported
// -Wunused-result inside sync/when_all.h. It fails to build if a warning
// escapes; running it checks the instantiations also behave.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "weft.h"

namespace {

weft::Task<absl::Status> status_of(bool ok) {
  co_return ok ? absl::OkStatus() : absl::InternalError("no");
}

weft::Task<weft::MutexGuard> lock(weft::Mutex& m) { co_return co_await m.lock(); }

weft::Task<void> nothing() { co_return; }

// Never called: compiling it instantiates Unblock's members (clang warned
// -Wunused-lambda-capture in unblock_io.h's submit_write).
[[maybe_unused]] weft::Task<absl::Status> unblock_user(weft::Unblock<weft::BlockingFd>& io) {
  std::array<std::byte, 16> buf;
  absl::StatusOr<size_t> n = co_await io.read(buf);
  if (!n.ok()) co_return n.status();
  absl::StatusOr<size_t> w = co_await io.write(std::string_view("x"));
  if (!w.ok()) co_return w.status();
  co_return co_await io.flush();
}

int failures = 0;

// Prints each check; counts those that failed.
void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

weft::Task<void> user_program() {
  auto [a, b] = co_await weft::when_all(status_of(true), status_of(false));
  expect(a.ok() && !b.ok(), "when_all over Task<absl::Status>");

  std::vector<weft::Task<absl::Status>> many;
  many.push_back(status_of(true));
  many.push_back(status_of(true));
  std::vector<absl::Status> all = co_await weft::when_all(std::move(many));
  expect(all.size() == 2 && all[0].ok() && all[1].ok(), "when_all over a vector");

  weft::Mutex m;
  {
    auto [g] = co_await weft::when_all(lock(m));
    expect(!m.try_lock().has_value(), "when_all over Task<MutexGuard>");
  }

  auto first = co_await weft::when_any(status_of(true), nothing());
  expect(first.index() == 0 && std::get<0>(first).ok(), "when_any");

  absl::Status t = co_await weft::timeout(std::chrono::seconds(60), nothing());
  expect(t.ok(), "timeout over Task<void>");

  weft::Channel<absl::Status> ch(2);
  weft::SendResult<absl::Status> sent = co_await ch.send(absl::OkStatus());
  expect(sent.ok(), "Channel<absl::Status>::send");
  absl::StatusOr<absl::Status> got = co_await ch.recv();
  expect(got.ok() && got->ok(), "Channel<absl::Status>::recv");

  auto [tx, rx] = weft::oneshot<absl::Status>();
  (void)tx.send(absl::CancelledError());
  absl::StatusOr<absl::Status> one = co_await rx;
  expect(one.ok() && absl::IsCancelled(*one), "oneshot<absl::Status>");
}

}  // namespace

int main() {
  weft::block_on(user_program());
  return failures == 0 ? 0 : 1;
}
