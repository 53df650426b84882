// Timers through the global reactor: never early, wake order, Timer moved
// between tasks, reset from another thread, Interval, cancellation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <random>
#include <thread>
#include <vector>

#include "executor/task.h"
#include "executor/task_header.h"
#include "reactor/reactor.h"
#include "test_util.h"
#include "timer_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft::Clock;

namespace {
// Generous upper bound: the machine may be loaded; the lower bound is exact.
constexpr auto kSlack = 2s;

weft::Task<Clock::time_point> sleep_then_now(Clock::duration d) {
  co_await weft::sleep_for(d);
  co_return Clock::now();
}

using weft_test::wheel_reaches;
}  // namespace

TEST_CASE("sleep_for never wakes early and does wake", "[timer]") {
  auto start = Clock::now();
  auto woke = weft::block_on(sleep_then_now(30ms));
  CHECK(woke - start >= 30ms);
  CHECK(woke - start < 30ms + kSlack);
}

// What reactor/timer.h promises about order: the reactor calls wake() for
// expired timers in deadline order (at its 1 ms resolution). Not the order in
// which the woken tasks then run: that is the executor's (LIFO slot,
// stealing, several workers), and a task that found its timer already fired
// when it first awaited it (the machine took longer than the offset to start
// it) runs whenever it is started. Asserting run order made this test fail
// under load (575 inversions once, under TSan on a busy machine). So the tasks
// here belong to a scheduler that only records the order of the wake()
// calls it receives, and runs the tasks itself afterwards.
namespace {
class WakeRecorder final : public weft::detail::Scheduler {
 public:
  void schedule(weft::detail::TaskHeader* t) noexcept override {
    {
      std::lock_guard<std::mutex> l(mu_);
      woken_.push_back(t);
      queue_.push_back(t);
    }
    cv_.notify_one();
  }
  void task_done(weft::detail::TaskHeader*) noexcept override {}

  // Queues a new task to run without recording a wake.
  void push_new(weft::detail::TaskHeader* t) {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(t);
  }
  // The next task to run, or null if none came before `give_up`.
  weft::detail::TaskHeader* pop(Clock::time_point give_up) {
    std::unique_lock<std::mutex> l(mu_);
    if (!cv_.wait_until(l, give_up, [&] { return !queue_.empty(); })) return nullptr;
    auto* t = queue_.front();
    queue_.pop_front();
    return t;
  }
  std::vector<weft::detail::TaskHeader*> woken() {
    std::lock_guard<std::mutex> l(mu_);
    return woken_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<weft::detail::TaskHeader*> queue_;   // guarded by mu_
  std::vector<weft::detail::TaskHeader*> woken_;  // guarded by mu_: wake order
};
}  // namespace

TEST_CASE("10,000 random timers: none early, and the reactor wakes them in deadline order",
          "[timer]") {
  constexpr int kTimers = 10'000;
  // Every timer is armed and awaited before the first deadline (the offset),
  // so each is woken by the reactor, in an order that is the reactor's alone.
  constexpr auto kOffset = 500ms;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> ms(1, 200);
  const auto start = Clock::now() + kOffset;
  std::vector<Clock::time_point> deadlines(kTimers);
  std::vector<weft::Timer> timers(kTimers);
  for (int i = 0; i < kTimers; ++i) {
    deadlines[i] = start + std::chrono::milliseconds(ms(rng));
    timers[i].set_at(deadlines[i]);
  }
  REQUIRE(Clock::now() < start);  // else the machine is too slow for this test's offset

  WakeRecorder rec;
  std::vector<weft::detail::TaskHeader*> tasks(kTimers);
  std::map<weft::detail::TaskHeader*, int> index;
  int early = 0;
  for (int i = 0; i < kTimers; ++i) {
    tasks[i] = weft::detail::make_root(
        [](weft::Timer* t, Clock::time_point d, int* early) -> weft::Task<void> {
          co_await *t;
          if (Clock::now() < d || !t->fired()) ++*early;
        }(&timers[i], deadlines[i], &early),
        &rec, weft::detail::state::kNewRoot);
    index[tasks[i]] = i;
    rec.push_new(tasks[i]);
  }
  // Run every task until it finished (one thread: `early` needs no lock).
  int finished = 0;
  const auto give_up = start + 200ms + kSlack + 10s;
  while (finished < kTimers) {
    weft::detail::TaskHeader* t = rec.pop(give_up);
    if (!t) break;  // a timer never fired: fails below
    switch (weft::detail::run_task(t)) {
      case weft::detail::RunResult::kFinished:
        ++finished;
        break;
      case weft::detail::RunResult::kReschedule:
        // The timer fired while the task's first step ran (it had put its
        // Waker in the entry's slot, not yet returned): a wake of a running
        // task is the runner's to act on, with no schedule() call. Dropping
        // it lost that task: 9,999 of 10,000 under TSan on a busy machine.
        rec.push_new(t);
        break;
      case weft::detail::RunResult::kIdle:
        break;
    }
  }
  for (auto* t : tasks) weft::detail::handle_release(t, /*detach=*/false);
  CHECK(finished == kTimers);
  CHECK(early == 0);

  // Each task was woken at most once (it suspends once). A task that was not
  // woken found its timer already fired when it first awaited it (a machine
  // so loaded that starting the tasks took longer than the offset): legal,
  // and such a task is simply not part of the wake order checked below.
  std::vector<weft::detail::TaskHeader*> woken = rec.woken();
  std::set<weft::detail::TaskHeader*> distinct(woken.begin(), woken.end());
  CHECK(distinct.size() == woken.size());
  CHECK_FALSE(woken.empty());
  auto& r = weft::detail::Reactor::get();
  int inversions = 0;
  for (size_t i = 1; i < woken.size(); ++i) {
    if (r.to_deadline_ms(deadlines[index[woken[i]]]) <
        r.to_deadline_ms(deadlines[index[woken[i - 1]]])) {
      ++inversions;
    }
  }
  CHECK(inversions == 0);
}

TEST_CASE("a cancelled sleep leaves no timer behind", "[timer][cancel]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0}, destroyed{0};
  bool ok = ex.run([&]() -> weft::Task<bool> {
    bool empty = co_await wheel_reaches(0);  // not inside REQUIRE: see async_fd_test
    REQUIRE(empty);
    auto h = ex.spawn([](std::atomic<int>* live, std::atomic<int>* destroyed) -> weft::Task<void> {
      weft_test::Counted c(live, destroyed);
      co_await weft::sleep_for(1h);
    }(&live, &destroyed));
    co_await weft::yield_now();  // let it start sleeping
    CHECK(live == 1);
    bool armed = co_await wheel_reaches(1);
    { auto drop = std::move(h); }  // cancel
    co_await weft::yield_now();
    CHECK(destroyed == 1);
    co_return armed && co_await wheel_reaches(0);
  }());
  CHECK(ok);
}

TEST_CASE("a Timer moved to another task while pending still wakes it", "[timer]") {
  weft::Executor ex;
  auto start = Clock::now();
  auto woke = ex.run([&]() -> weft::Task<Clock::time_point> {
    weft::Timer t(40ms);
    auto h = ex.spawn([](weft::Timer t) -> weft::Task<Clock::time_point> {
      co_await t;
      co_return Clock::now();
    }(std::move(t)));
    co_return co_await h;
  }());
  CHECK(woke - start >= 40ms);
  CHECK(woke - start < 40ms + kSlack);
}

TEST_CASE("Timer::reset from another thread moves the wait", "[timer]") {
  weft::Timer t(1h);
  std::atomic<bool> waiting{false};
  auto start = Clock::now();
  std::thread resetter([&] {
    while (!waiting.load()) std::this_thread::yield();
    t.set_after(20ms);
  });
  weft::block_on([&]() -> weft::Task<void> {
    waiting.store(true);
    co_await t;
  }());
  resetter.join();
  auto took = Clock::now() - start;
  CHECK(took >= 20ms);
  CHECK(took < 20ms + kSlack);  // the 1 h deadline would hang the test
  CHECK(t.fired());
}

// "Interval ticks at its period and skips missed ticks" moved to
// time_control_test.cc, on the paused clock (exact tick times, no wall
// clock).

// Each entry sits in the insert and the cancel queue at once; the two
// queues once shared one link and corrupted each other (found by the
// timer_cancel benchmark). Nothing fires and the wheel drains.
TEST_CASE("creating and cancelling 100,000 timers at once", "[timer][cancel][stress]") {
  for (int i = 0; i < 100'000; ++i) {
    weft::Timer t(10s);
    t.cancel();
    CHECK_FALSE(t.fired());
  }
  std::vector<weft::Timer> many(1000);
  for (auto& t : many) t.set_after(1h);
  for (auto& t : many) t.set_after(2h);  // re-arm: cancels the first entries
  many.clear();
  bool drained = weft::block_on(wheel_reaches(0));
  CHECK(drained);
}
