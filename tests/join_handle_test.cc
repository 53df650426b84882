// JoinHandle: results, exceptions, cancel-on-drop, detach, cancel(), misuse.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>

#include "test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::Gate;

namespace {

weft::Task<int> value_after(Gate& g, int v) {
  co_await g;
  co_return v;
}

weft::Task<int> parked_forever(Gate& g, std::atomic<int>* live, std::atomic<int>* destroyed,
                               std::atomic<int>* resumed) {
  Counted c(live, destroyed);
  co_await g;
  resumed->fetch_add(1);
  co_return 1;
}

// Ticks `ex` until nothing is runnable.
void drain(weft::LocalExecutor& ex) {
  while (ex.try_tick()) {
  }
}

}  // namespace

TEST_CASE("JoinHandle delivers the result and the exception", "[join]") {
  weft::Executor ex;
  int r = ex.run([&]() -> weft::Task<int> {
    auto ok = ex.spawn([]() -> weft::Task<int> { co_return 7; }());
    auto bad = ex.spawn([]() -> weft::Task<int> {
      throw std::invalid_argument("bad input");
      co_return 0;
    }());
    int v = co_await ok;
    try {
      co_await bad;
      FAIL("no exception");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) == "bad input");
    }
    co_return v;
  }());
  CHECK(r == 7);
}

TEST_CASE("dropping a JoinHandle cancels the task at its suspension point", "[join][cancel]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate gate;
  weft::LocalExecutor ex;
  {
    auto h = ex.spawn(parked_forever(gate, &live, &destroyed, &resumed));
    drain(ex);
    REQUIRE(gate.waiting() == 1);  // suspended on the gate
    CHECK(live == 1);
  }  // the handle goes: cancel
  drain(ex);
  CHECK(live == 0);
  CHECK(destroyed == 1);  // exactly once
  gate.open();            // a late wake through the stale waker: harmless
  drain(ex);
  CHECK(resumed == 0);
  CHECK(destroyed == 1);
}

TEST_CASE("a task cancelled before it first ran never runs", "[join][cancel]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate gate;
  gate.open();
  weft::LocalExecutor ex;
  { auto h = ex.spawn(parked_forever(gate, &live, &destroyed, &resumed)); }
  drain(ex);
  CHECK(resumed == 0);
  CHECK(live == 0);  // Counted never constructed: the body never started
  CHECK(destroyed == 0);
}

TEST_CASE("a detached task runs to completion", "[join][detach]") {
  std::atomic<int> live{0}, destroyed{0}, resumed{0};
  Gate gate;
  weft::LocalExecutor ex;
  ex.spawn(parked_forever(gate, &live, &destroyed, &resumed)).detach();
  drain(ex);
  CHECK(live == 1);
  gate.open();
  drain(ex);
  CHECK(resumed == 1);
  CHECK(destroyed == 1);
  CHECK(live == 0);
}

TEST_CASE("cancel() reports whether the task had finished", "[join][cancel]") {
  weft::LocalExecutor ex;
  Gate never, opened;
  opened.open();
  auto pending = ex.spawn(value_after(never, 1));
  auto done = ex.spawn(value_after(opened, 2));
  auto out = ex.run([&]() -> weft::Task<std::pair<std::optional<int>, std::optional<int>>> {
    co_await weft::yield_now();  // let both run once
    auto a = co_await pending.cancel();
    auto b = co_await done.cancel();
    co_return std::make_pair(a, b);
  }());
  CHECK_FALSE(out.first.has_value());
  REQUIRE(out.second.has_value());
  CHECK(*out.second == 2);
}

TEST_CASE("awaiting a JoinHandle twice fails with a message", "[join][misuse]") {
  weft::LocalExecutor ex;
  auto h = ex.spawn([]() -> weft::Task<int> { co_return 1; }());
  auto twice = [&]() -> weft::Task<int> {
    int a = co_await h;
    int b = co_await h;
    co_return a + b;
  };
  CHECK_THROWS_WITH(ex.run(twice()), Catch::Contains("awaited twice"));
}

TEST_CASE("awaiting a moved-from JoinHandle fails with a message", "[join][misuse]") {
  weft::LocalExecutor ex;
  auto h = ex.spawn([]() -> weft::Task<int> { co_return 1; }());
  auto use = [&]() -> weft::Task<int> {
    auto mine = std::move(h);
    int a = co_await mine;
    int b = co_await h;
    co_return a + b;
  };
  CHECK_THROWS_WITH(ex.run(use()), Catch::Contains("moved-from"));
}

TEST_CASE("JoinHandle::is_finished follows the task", "[join]") {
  weft::LocalExecutor ex;
  Gate g;
  auto h = ex.spawn(value_after(g, 3));
  drain(ex);
  CHECK_FALSE(h.is_finished());
  g.open();
  drain(ex);
  CHECK(h.is_finished());
  CHECK(ex.run([&]() -> weft::Task<int> { co_return co_await h; }()) == 3);
}

namespace {
weft::Task<std::string> join_after_slot(weft_test::WakerSlot& slot, weft::JoinHandle<int>& target) {
  co_await slot;
  try {
    int v = co_await target;
    co_return "joined " + std::to_string(v);
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
}
}  // namespace

// Issue #9 item 6: a Waker kept from an earlier suspension cannot resume
// the join: it is inert; the join completes when the task does.
TEST_CASE("a stale waker does not resume a JoinHandle await", "[join][stale]") {
  weft::LocalExecutor ex;
  weft_test::WakerSlot slot;
  Gate never;
  auto target = ex.spawn(value_after(never, 1));
  auto joiner = ex.spawn(join_after_slot(slot, target));
  drain(ex);
  weft::Waker stale = slot.take();
  REQUIRE(stale);
  stale.wake_by_ref();  // legitimate: resumes past the slot, into the join
  drain(ex);
  CHECK_FALSE(joiner.is_finished());
  stale.wake_by_ref();  // stale: the task now waits on the join
  drain(ex);
  CHECK_FALSE(joiner.is_finished());
  never.open();
  drain(ex);
  REQUIRE(joiner.is_finished());
  std::string what = ex.run([&]() -> weft::Task<std::string> { co_return co_await joiner; }());
  CHECK(what == "joined 1");
}

// Issue #9: an await of a JoinHandle that is cancelled (the loser of a
// timeout or when_any, or a task dropped while it awaits) takes its
// registration back, so the handle can be awaited again.
namespace {
weft::Task<int> await_handle(weft::JoinHandle<int>& h) { co_return co_await h; }
}  // namespace

TEST_CASE("a JoinHandle awaited again after a timed-out await gets the result",
          "[join][cancel]") {
  using namespace std::chrono_literals;
  weft::Executor ex;
  Gate g;
  bool timed_out = false, finished_early = true;
  int r = ex.run([&]() -> weft::Task<int> {
    auto h = ex.spawn(value_after(g, 42));
    auto first = co_await weft::timeout(20ms, await_handle(h));
    timed_out = absl::IsDeadlineExceeded(first.status());
    finished_early = h.is_finished();
    g.open();
    co_return co_await h;  // aborted with "awaited by two tasks at once"
  }());
  CHECK(timed_out);
  CHECK_FALSE(finished_early);
  CHECK(r == 42);
}

TEST_CASE("a JoinHandle whose awaiting task was cancelled is awaited by another task",
          "[join][cancel]") {
  weft::LocalExecutor ex;
  Gate g;
  std::atomic<int> live{0}, destroyed{0};
  bool waiter_cancelled = false;
  int r = ex.run([&]() -> weft::Task<int> {
    auto h = ex.spawn(value_after(g, 7));
    bool started = false;
    auto waiter = ex.spawn([](weft::JoinHandle<int>& h, bool* started, std::atomic<int>* live,
                              std::atomic<int>* destroyed) -> weft::Task<int> {
      Counted c(live, destroyed);
      *started = true;
      co_return co_await h;  // registers in h's join slot, then is cancelled
    }(h, &started, &live, &destroyed));
    while (!started) co_await weft::yield_now();
    std::optional<int> got = co_await waiter.cancel();  // its frame is gone now
    waiter_cancelled = !got.has_value();
    g.open();
    co_return co_await h;
  }());
  CHECK(waiter_cancelled);
  CHECK(destroyed == 1);
  CHECK(live == 0);
  CHECK(r == 7);
}
