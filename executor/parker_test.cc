// Parker: permits are not lost; unpark wakes a parked thread.
#include "executor/parker.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using weft::detail::Parker;

TEST_CASE("an unpark before park leaves a permit", "[parker]") {
  Parker p;
  p.unpark();
  p.park();  // returns at once; a lost permit would hang here
  SUCCEED();
}

TEST_CASE("unpark from another thread wakes a parked thread", "[parker]") {
  Parker p;
  std::atomic<bool> ready{false};
  std::thread t([&] {
    ready.store(true, std::memory_order_release);
    p.unpark();
  });
  while (!ready.load(std::memory_order_acquire)) p.park();
  t.join();
  CHECK(ready.load());
}

TEST_CASE("two threads ping-pong 20,000 times through parkers", "[parker][stress]") {
  constexpr int kRounds = 20'000;
  Parker a, b;
  std::atomic<int> turn{0};  // even: a's turn, odd: b's turn
  std::thread other([&] {
    for (int i = 0; i < kRounds; ++i) {
      while (turn.load(std::memory_order_acquire) != 2 * i + 1) b.park();
      turn.store(2 * i + 2, std::memory_order_release);
      a.unpark();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    while (turn.load(std::memory_order_acquire) != 2 * i) a.park();
    turn.store(2 * i + 1, std::memory_order_release);
    b.unpark();
  }
  while (turn.load(std::memory_order_acquire) != 2 * kRounds) a.park();
  other.join();
  CHECK(turn.load() == 2 * kRounds);
}
