// timeout(): the deadline fires (and the task is cancelled) or it does not.
#include <catch2/catch.hpp>

#include <chrono>

#include "test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::Clock;

namespace {
weft::Task<int> value_after(Clock::duration d, int v, std::atomic<int>* live,
                            std::atomic<int>* destroyed) {
  weft_test::Counted c(live, destroyed);
  co_await weft::sleep_for(d);
  co_return v;
}
weft::Task<void> wait_gate(weft_test::Gate& g) { co_await g; }
}  // namespace

TEST_CASE("timeout fires: DeadlineExceeded, task cancelled before it returns", "[timeout]") {
  std::atomic<int> live{0}, destroyed{0};
  auto start = Clock::now();
  auto r = weft::block_on(weft::timeout(30ms, value_after(1h, 1, &live, &destroyed)));
  auto took = Clock::now() - start;
  CHECK(absl::IsDeadlineExceeded(r.status()));
  CHECK(took >= 30ms);
  CHECK(took < 5s);
  CHECK(live == 0);  // the loser's frame is gone already
  CHECK(destroyed == 1);
}

TEST_CASE("timeout does not fire when the task finishes first", "[timeout]") {
  std::atomic<int> live{0}, destroyed{0};
  weft::Executor ex;
  auto r = ex.run(weft::timeout(10s, value_after(5ms, 42, &live, &destroyed)));
  REQUIRE(r.ok());
  CHECK(*r == 42);
  CHECK(destroyed == 1);
}

TEST_CASE("timeout over a void task and from another executor's thread", "[timeout]") {
  weft_test::Gate gate;
  weft::LocalExecutor ex;
  absl::Status late = ex.run(weft::timeout(20ms, wait_gate(gate)));
  CHECK(absl::IsDeadlineExceeded(late));
  gate.open();
  absl::Status ok = ex.run(weft::timeout(1s, wait_gate(gate)));
  CHECK(ok.ok());
}
