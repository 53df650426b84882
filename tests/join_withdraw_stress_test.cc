// Issue #9, the race: an await of a JoinHandle withdrawn (its when_any
// child lost) while the task completes on another thread. Every iteration
// must end in exactly one of two ways: the await delivered the result, or it
// was withdrawn and a second await of the same handle gets the result.
// Never lost (the second await would time out), never twice (a handle gives
// its result once; a second take would throw "awaited twice").
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft_test::Counted;
using weft_test::Gate;

namespace {
// Enough iterations that both outcomes occur many times on two cores.
constexpr int kIterations = 2'000;

weft::Task<int> value_after(Gate& g, int v, std::atomic<int>* live) {
  Counted c(live);
  co_await g;
  co_return v;
}
weft::Task<int> await_handle(weft::JoinHandle<int>& h) { co_return co_await h; }
weft::Task<void> await_gate(Gate& g) { co_await g; }
}  // namespace

TEST_CASE("withdrawing a join registration races task completion: never lost, never twice",
          "[join][cancel][stress]") {
  weft::Executor ex;
  Gate stop;
  // A second worker, so the joined task may complete on another thread
  // while the first one withdraws the await.
  std::thread helper([&] { ex.run(await_gate(stop)); });
  std::atomic<int> live{0};
  int delivered = 0, reawaited = 0, wrong = 0, lost = 0;
  ex.run([&]() -> weft::Task<void> {
    for (int i = 0; i < kIterations; ++i) {
      Gate finish, give_up;
      auto h = ex.spawn(value_after(finish, i, &live));
      // From a third thread, close together: the task's completion and the
      // end of the await. Alternate which goes first.
      std::thread racer([&, i] {
        if (i % 2) {
          finish.open();
          give_up.open();
        } else {
          give_up.open();
          finish.open();
        }
      });
      auto winner = co_await weft::when_any(await_handle(h), await_gate(give_up));
      if (winner.index() == 0) {
        ++delivered;
        if (std::get<0>(winner) != i) ++wrong;
      } else {
        // Withdrawn (or the result came too late to win): await again.
        ++reawaited;
        auto again = co_await weft::timeout(10s, await_handle(h));
        if (!again.ok()) {
          ++lost;
        } else if (*again != i) {
          ++wrong;
        }
      }
      racer.join();
    }
  }());
  stop.open();
  helper.join();
  CHECK(delivered + reawaited == kIterations);
  CHECK(wrong == 0);
  CHECK(lost == 0);
  CHECK(live == 0);  // every joined task's frame was destroyed
  INFO("delivered " << delivered << ", withdrawn then re-awaited " << reawaited);
  CHECK(reawaited > 0);
}
