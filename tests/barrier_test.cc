// Barrier: phases, one leader per phase, reuse, a withdrawn arrival, and
// tasks from several threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::drain;

namespace {

weft::Task<void> arrive(weft::Barrier& b, int* passed, int* leaders) {
  bool leader = co_await b.arrive_and_wait();
  ++*passed;
  if (leader) ++*leaders;
}

}  // namespace

TEST_CASE("the n-th arrival releases the phase and is its leader", "[barrier]") {
  weft::Barrier b(3);
  weft::LocalExecutor ex;
  int passed = 0, leaders = 0;
  std::vector<weft::JoinHandle<void>> hs;
  for (int phase = 0; phase < 3; ++phase) {  // reusable
    hs.push_back(ex.spawn(arrive(b, &passed, &leaders)));
    hs.push_back(ex.spawn(arrive(b, &passed, &leaders)));
    drain(ex);
    CHECK(passed == 3 * phase);
    hs.push_back(ex.spawn(arrive(b, &passed, &leaders)));
    drain(ex);
    CHECK(passed == 3 * phase + 3);
    CHECK(leaders == phase + 1);
  }
}

TEST_CASE("a barrier of one never waits", "[barrier]") {
  weft::Barrier b(1);
  bool leader = weft::block_on(
      [](weft::Barrier& b) -> weft::Task<bool> { co_return co_await b.arrive_and_wait(); }(b));
  CHECK(leader);
  CHECK_THROWS_AS(weft::Barrier(0), std::invalid_argument);
}

TEST_CASE("a cancelled waiter withdraws its arrival", "[barrier][cancel]") {
  weft::Barrier b(2);
  weft::LocalExecutor ex;
  int passed = 0, leaders = 0;
  { auto h = ex.spawn(arrive(b, &passed, &leaders)); drain(ex); }  // arrives, then cancelled
  drain(ex);
  auto h1 = ex.spawn(arrive(b, &passed, &leaders));
  drain(ex);
  CHECK(passed == 0);  // alone: the cancelled arrival does not count
  auto h2 = ex.spawn(arrive(b, &passed, &leaders));
  drain(ex);
  CHECK(passed == 2);
  CHECK(leaders == 1);
}

TEST_CASE("tasks on several threads pass many phases together", "[barrier][stress]") {
  constexpr int kParties = 4;
  constexpr int kPhases = 2'000;
  weft::Barrier b(kParties);
  std::atomic<int> arrived{0};
  std::atomic<int> leaders{0};
  auto body = [](weft::Barrier& b, std::atomic<int>& arrived,
                 std::atomic<int>& leaders) -> weft::Task<void> {
    for (int phase = 0; phase < kPhases; ++phase) {
      // relaxed: the barrier orders the increments before the check below.
      arrived.fetch_add(1, std::memory_order_relaxed);
      bool leader = co_await b.arrive_and_wait();
      // Nobody passes before all arrived at this phase.
      if (arrived.load(std::memory_order_relaxed) < (phase + 1) * kParties) {
        throw std::runtime_error("passed the barrier early");
      }
      if (leader) leaders.fetch_add(1, std::memory_order_relaxed);
      // A second barrier so nobody runs into the next phase's count early.
      (void)co_await b.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kParties - 1; ++t) {
    threads.emplace_back([&] { weft::block_on(body(b, arrived, leaders)); });
  }
  weft::Executor ex;
  ex.run(body(b, arrived, leaders));
  for (auto& t : threads) t.join();
  CHECK(arrived.load() == kParties * kPhases);
  CHECK(leaders.load() == kPhases);
}
