// Stress: foreign threads join and leave an Executor while a million tasks
// run; every task runs exactly once.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

namespace {
weft::Task<void> mark(std::atomic<uint8_t>* slot, std::atomic<int>* left) {
  slot->fetch_add(1, std::memory_order_relaxed);
  left->fetch_sub(1, std::memory_order_acq_rel);
  co_return;
}
}  // namespace

TEST_CASE("workers joining and leaving while 1,000,000 tasks run", "[executor][stress]") {
  constexpr int kTasks = 1'000'000;
  auto runs = std::make_unique<std::atomic<uint8_t>[]>(kTasks);
  std::atomic<int> left{kTasks};
  weft::Executor ex;
  std::atomic<bool> stop{false};

  // Two threads that repeatedly join as workers for a short while, leave, and
  // join again: what a borrowed pool does.
  std::vector<std::thread> visitors;
  std::atomic<int> visits{0};
  for (int v = 0; v < 2; ++v) {
    visitors.emplace_back([&] {
      while (!stop.load(std::memory_order_acquire)) {
        ex.run([](std::atomic<bool>* stop) -> weft::Task<void> {
          for (int i = 0; i < 50 && !stop->load(std::memory_order_acquire); ++i) {
            co_await weft::yield_now();
          }
        }(&stop));
        visits.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // The spawner is a thread that never joins.
  std::thread spawner([&] {
    for (int i = 0; i < kTasks; ++i) ex.spawn(mark(&runs[i], &left)).detach();
  });
  // The main thread works until every task ran.
  ex.run([](std::atomic<int>* left) -> weft::Task<void> {
    while (left->load(std::memory_order_acquire) > 0) co_await weft::yield_now();
  }(&left));
  spawner.join();
  stop.store(true, std::memory_order_release);
  for (auto& t : visitors) t.join();

  int bad = 0;
  for (int i = 0; i < kTasks; ++i) bad += runs[i].load(std::memory_order_relaxed) != 1;
  CHECK(bad == 0);
  CHECK(left == 0);
  CHECK(visits > 0);
}
