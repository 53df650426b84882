// LocalQueue: the owner / stealer split, order, overflow, steal-half, and a
// concurrent owner/thieves stress in which every task must come out exactly
// once.
#include "executor/local_queue.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

using weft::detail::LocalQueue;
using weft::detail::TaskHeader;

namespace {
constexpr uint32_t kCap = LocalQueue::kCapacity;

template <class H>
concept CanPush = requires(H h, TaskHeader* t) { h.push_back(t); };
template <class H>
concept CanPop = requires(H h) { h.pop(); };
template <class H>
concept CanSteal = requires(H h, LocalQueue::Owner& dst) {
  h.steal_into(dst);
  h.steal_one();
};
template <class Q>
concept HasOperations = CanPush<Q&> || CanPop<Q&> || CanSteal<Q&> ||
                        requires(Q& q) { q.len(); };
}  // namespace

TEST_CASE("only the Owner handle pushes and pops; the Stealer only takes", "[local_queue]") {
  // Threading rules as types: a thief cannot push to or pop from a queue
  // it does not own, and the queue itself offers nothing but its handles.
  STATIC_REQUIRE(CanPush<LocalQueue::Owner&>);
  STATIC_REQUIRE(CanPop<LocalQueue::Owner&>);
  STATIC_REQUIRE_FALSE(CanSteal<LocalQueue::Owner&>);
  STATIC_REQUIRE(CanSteal<LocalQueue::Stealer&>);
  STATIC_REQUIRE_FALSE(CanPush<LocalQueue::Stealer&>);
  STATIC_REQUIRE_FALSE(CanPop<LocalQueue::Stealer&>);
  STATIC_REQUIRE_FALSE(HasOperations<LocalQueue>);
  // One owner handle at a time: it cannot be copied into shared places.
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<LocalQueue::Owner>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<LocalQueue::Owner>);
  // No cost over a LocalQueue&: one pointer, nothing to destroy.
  STATIC_REQUIRE(sizeof(LocalQueue::Owner) == sizeof(LocalQueue*));
  STATIC_REQUIRE(sizeof(LocalQueue::Stealer) == sizeof(LocalQueue*));
  STATIC_REQUIRE(std::is_trivially_destructible_v<LocalQueue::Owner>);
  STATIC_REQUIRE(std::is_trivially_copyable_v<LocalQueue::Stealer>);

  // Both handles of one queue see the same tasks.
  auto q = std::make_unique<LocalQueue>();
  LocalQueue::Owner owner(*q);
  LocalQueue::Stealer stealer(*q);
  TaskHeader a;
  REQUIRE(owner.push_back(&a).count == 0);
  CHECK(stealer.len() == 1);
  CHECK_FALSE(stealer.is_empty());
  CHECK(stealer.steal_one() == &a);
  CHECK(owner.is_empty());
}

TEST_CASE("LocalQueue pops in FIFO order", "[local_queue]") {
  auto storage = std::make_unique<LocalQueue>();
  LocalQueue::Owner q(*storage);
  std::vector<TaskHeader> ts(kCap);
  for (auto& t : ts) CHECK(q.push_back(&t).count == 0);
  CHECK(q.len() == kCap);
  for (auto& t : ts) CHECK(q.pop() == &t);
  CHECK(q.pop() == nullptr);
  CHECK(q.is_empty());
}

TEST_CASE("a full LocalQueue hands back its older half plus the new task", "[local_queue]") {
  auto storage = std::make_unique<LocalQueue>();
  LocalQueue::Owner q(*storage);
  std::vector<TaskHeader> ts(kCap + 1);
  for (uint32_t i = 0; i < kCap; ++i) REQUIRE(q.push_back(&ts[i]).count == 0);
  LocalQueue::Overflow o = q.push_back(&ts[kCap]);
  REQUIRE(o.count == kCap / 2 + 1);
  TaskHeader* t = o.first;
  for (uint32_t i = 0; i < kCap / 2; ++i, t = t->next) CHECK(t == &ts[i]);
  CHECK(t == &ts[kCap]);
  CHECK(t == o.last);
  CHECK(t->next == nullptr);
  CHECK(q.len() == kCap / 2);
  CHECK(q.pop() == &ts[kCap / 2]);
}

TEST_CASE("steal_into moves half and returns one of them", "[local_queue]") {
  auto victim_q = std::make_unique<LocalQueue>();
  auto thief_q = std::make_unique<LocalQueue>();
  LocalQueue::Owner victim(*victim_q);
  LocalQueue::Owner thief(*thief_q);
  std::vector<TaskHeader> ts(kCap);
  for (auto& t : ts) victim.push_back(&t);
  TaskHeader* got = LocalQueue::Stealer(*victim_q).steal_into(thief);
  REQUIRE(got != nullptr);
  CHECK(victim.len() == kCap / 2);
  CHECK(thief.len() == kCap / 2 - 1);  // the returned one is not queued
  // The thief took the oldest half; the victim keeps the newest.
  CHECK(victim.pop() == &ts[kCap / 2]);
  CHECK(got == &ts[kCap / 2 - 1]);
  CHECK(thief.pop() == &ts[0]);
}

TEST_CASE("steal_one takes the oldest task", "[local_queue]") {
  auto storage = std::make_unique<LocalQueue>();
  LocalQueue::Owner q(*storage);
  LocalQueue::Stealer thief(*storage);
  TaskHeader a, b;
  q.push_back(&a);
  q.push_back(&b);
  CHECK(thief.steal_one() == &a);
  CHECK(q.pop() == &b);
  CHECK(thief.steal_one() == nullptr);
}

TEST_CASE("owner and two thieves: every task comes out exactly once",
          "[local_queue][stress]") {
  constexpr int kTasks = 200'000;
  std::vector<TaskHeader> ts(kTasks);
  auto seen = std::make_unique<std::atomic<int>[]>(kTasks);
  auto owner_storage = std::make_unique<LocalQueue>();
  LocalQueue::Owner owner_q(*owner_storage);
  const LocalQueue::Stealer victim(*owner_storage);
  std::atomic<int> taken{0};
  std::atomic<bool> done{false};
  auto index = [&](TaskHeader* t) { return static_cast<int>(t - ts.data()); };
  auto take = [&](TaskHeader* t) {
    seen[index(t)].fetch_add(1, std::memory_order_relaxed);
    taken.fetch_add(1, std::memory_order_relaxed);
  };

  std::vector<std::thread> thieves;
  for (int k = 0; k < 2; ++k) {
    thieves.emplace_back([&] {
      auto mine_storage = std::make_unique<LocalQueue>();
      LocalQueue::Owner mine(*mine_storage);  // this thief owns its own queue
      LocalQueue::Stealer from = victim;
      while (!done.load(std::memory_order_acquire)) {
        if (TaskHeader* t = from.steal_into(mine)) {
          take(t);
          while (TaskHeader* u = mine.pop()) take(u);
        }
      }
    });
  }
  for (int i = 0; i < kTasks; ++i) {
    LocalQueue::Overflow o = owner_q.push_back(&ts[i]);
    for (TaskHeader* t = o.first; t;) {
      TaskHeader* next = t->next;  // read before take(): it may be reused
      take(t);
      t = next;
    }
    if (i % 3 == 0) {
      if (TaskHeader* t = owner_q.pop()) take(t);
    }
  }
  while (TaskHeader* t = owner_q.pop()) take(t);
  while (taken.load(std::memory_order_relaxed) < kTasks) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) t.join();

  int wrong = 0;
  for (int i = 0; i < kTasks; ++i) wrong += seen[i].load() != 1;
  CHECK(wrong == 0);
  CHECK(taken.load() == kTasks);
}
