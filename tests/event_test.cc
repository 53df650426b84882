// Event: notify_one (FIFO, one stored permit), notify_all (including
// awaiters made before it), passing a notification on when its receiver is
// cancelled, and a cross-thread stress for lost notifications.
#include <catch2/catch.hpp>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::drain;

namespace {

weft::Task<void> wait_and_record(weft::Event& e, std::vector<int>& order, int id) {
  co_await e.wait();
  order.push_back(id);
}

}  // namespace

TEST_CASE("notify_one wakes waiters in order", "[event]") {
  weft::Event e;
  weft::LocalExecutor ex;
  std::vector<int> order;
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 1; i <= 3; ++i) hs.push_back(ex.spawn(wait_and_record(e, order, i)));
  drain(ex);
  e.notify_one();
  drain(ex);
  CHECK(order == std::vector<int>{1});
  e.notify_one();
  e.notify_one();
  drain(ex);
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("notify_one with nobody waiting leaves one permit", "[event]") {
  weft::Event e;
  weft::LocalExecutor ex;
  std::vector<int> order;
  e.notify_one();
  e.notify_one();  // permits do not add up
  auto a = ex.spawn(wait_and_record(e, order, 1));
  auto b = ex.spawn(wait_and_record(e, order, 2));
  drain(ex);
  CHECK(order == std::vector<int>{1});
}

TEST_CASE("notify_all wakes every waiter and leaves no permit", "[event]") {
  weft::Event e;
  weft::LocalExecutor ex;
  std::vector<int> order;
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 1; i <= 3; ++i) hs.push_back(ex.spawn(wait_and_record(e, order, i)));
  drain(ex);
  e.notify_all();
  drain(ex);
  CHECK(order.size() == 3);
  auto late = ex.spawn(wait_and_record(e, order, 4));
  drain(ex);
  CHECK(order.size() == 3);
}

TEST_CASE("notify_all reaches an awaiter made before it but awaited after", "[event]") {
  weft::Event e;
  bool woke = weft::block_on([](weft::Event& e) -> weft::Task<bool> {
    auto changed = e.wait();  // made before the notification...
    e.notify_all();           // ...which happens before the await
    co_await changed;         // completes at once instead of hanging
    co_return true;
  }(e));
  CHECK(woke);
}

TEST_CASE("a notification whose receiver is cancelled is passed on", "[event][cancel]") {
  weft::Event e;
  weft::LocalExecutor ex;
  std::vector<int> order;
  auto h1 = ex.spawn(wait_and_record(e, order, 1));

  SECTION("to the next waiter") {
    auto h2 = ex.spawn(wait_and_record(e, order, 2));
    drain(ex);
    e.notify_one();                    // chooses 1...
    { auto dropped = std::move(h1); }  // ...which is cancelled before it resumes
    drain(ex);
    CHECK(order == std::vector<int>{2});
  }
  SECTION("or to the permit") {
    drain(ex);
    e.notify_one();
    { auto dropped = std::move(h1); }
    drain(ex);
    auto h3 = ex.spawn(wait_and_record(e, order, 3));
    drain(ex);
    CHECK(order == std::vector<int>{3});
  }
  SECTION("but not for notify_all, which reached everyone") {
    auto h2 = ex.spawn(wait_and_record(e, order, 2));
    drain(ex);
    e.notify_all();
    { auto dropped = std::move(h1); }
    drain(ex);
    CHECK(order == std::vector<int>{2});
    auto h3 = ex.spawn(wait_and_record(e, order, 3));
    drain(ex);
    CHECK(order == std::vector<int>{2});  // no permit was left behind
  }
}

// A producer thread pushes items and calls notify_one (or notify_all); a
// consumer task takes them, waiting on the event when the queue is empty. A
// lost notification leaves the consumer waiting forever (the test hangs).
TEST_CASE("Event stress: no lost notification across threads", "[event][stress]") {
  constexpr int kItems = 100'000;
  const bool use_all = GENERATE(false, true);
  weft::Event e;
  std::mutex mu;
  std::deque<int> queue;  // guarded by mu
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      {
        std::lock_guard<std::mutex> l(mu);
        queue.push_back(i);
      }
      if (use_all) e.notify_all(); else e.notify_one();
    }
  });
  weft::Executor ex;
  int64_t sum = ex.run([](weft::Event& e, std::mutex& mu, std::deque<int>& queue) -> weft::Task<int64_t> {
    int64_t sum = 0;
    for (int got = 0; got < kItems;) {
      auto changed = e.wait();  // before the check, so no notification slips by
      std::optional<int> item;
      {
        std::lock_guard<std::mutex> l(mu);
        if (!queue.empty()) {
          item = queue.front();
          queue.pop_front();
        }
      }
      if (item) {
        sum += *item;
        ++got;
      } else {
        co_await changed;
      }
    }
    co_return sum;
  }(e, mu, queue));
  producer.join();
  CHECK(sum == int64_t{kItems} * (kItems - 1) / 2);
}
