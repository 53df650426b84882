// when_any / when_all / timeout over awaitables that are not tasks (channel
// operations, locks, timers, JoinHandles, a yield): the branch that won,
// the losers cancelled, and nothing lost: a receive that lost takes no item,
// a lock that lost is not held, a JoinHandle passed by reference keeps its
// task.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <variant>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft_test::Counted;
using weft_test::drain;
using weft_test::Gate;

namespace {

weft::Task<int> after_gate(Gate& g, int v, std::atomic<int>* live) {
  Counted c(live);
  co_await g;
  co_return v;
}

}  // namespace

TEST_CASE("a receive that loses to a timer takes no item", "[select][channel]") {
  weft::Channel<int> ch(4);
  auto r = weft::block_on([](weft::Channel<int>& ch) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(ch.recv(), weft::sleep_for(5ms));
    co_return r.index();
  }(ch));
  CHECK(r == 1);
  // The losing receive left no waiter behind that could swallow this one.
  REQUIRE(ch.try_send(7).ok());
  absl::StatusOr<int> v = ch.try_recv();
  REQUIRE(v.ok());
  CHECK(*v == 7);
}

TEST_CASE("when_any says which branch won and gives its value", "[select]") {
  weft::Channel<int> a(1), b(1);
  REQUIRE(b.try_send(42).ok());
  auto out = weft::block_on([](weft::Channel<int>& a, weft::Channel<int>& b)
                                -> weft::Task<std::pair<size_t, int>> {
    auto r = co_await weft::when_any(a.recv(), b.recv(), weft::sleep_for(10s));
    if (r.index() != 1) co_return std::make_pair(r.index(), -1);
    absl::StatusOr<int> v = std::get<1>(std::move(r));
    co_return std::make_pair(r.index(), v.ok() ? *v : -2);
  }(a, b));
  CHECK(out.first == 1);
  CHECK(out.second == 42);
  CHECK(a.size() == 0);
  REQUIRE(a.try_send(1).ok());  // a's losing receive is gone
  CHECK(a.try_recv().ok());
}

TEST_CASE("a lock that loses is not held", "[select][mutex]") {
  weft::Mutex m;
  weft::LocalExecutor ex;
  std::optional<weft::MutexGuard> held = m.try_lock();
  REQUIRE(held);
  auto h = ex.spawn([](weft::Mutex& m) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(m.lock(), weft::sleep_for(5ms));
    co_return r.index();
  }(m));
  CHECK(ex.run([](weft::JoinHandle<size_t>& h) -> weft::Task<size_t> { co_return co_await h; }(h)) ==
        1);
  held.reset();
  CHECK_FALSE(m.is_locked());
  CHECK(m.try_lock().has_value());
}

TEST_CASE("when_all over a receive and a lock", "[select][mutex][channel]") {
  weft::Mutex m;
  weft::Channel<int> ch;
  REQUIRE(ch.try_send(5).ok());
  auto v = weft::block_on([](weft::Mutex& m, weft::Channel<int>& ch) -> weft::Task<int> {
    auto [got, guard] = co_await weft::when_all(ch.recv(), m.lock());
    CHECK(guard);
    co_return got.ok() ? *got : -1;
  }(m, ch));
  CHECK(v == 5);
  CHECK_FALSE(m.is_locked());
}

TEST_CASE("a JoinHandle by reference keeps its task when it loses; by value it is cancelled",
          "[select][join]") {
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  Gate g1, g2;
  auto kept = ex.spawn(after_gate(g1, 1, &live));
  auto owned = ex.spawn(after_gate(g2, 2, &live));
  drain(ex);
  REQUIRE(live.load() == 2);
  auto winners = ex.run([](weft::JoinHandle<int>& kept,
                           weft::JoinHandle<int>& owned) -> weft::Task<std::pair<size_t, size_t>> {
    auto a = co_await weft::when_any(kept, weft::yield_now());
    auto b = co_await weft::when_any(std::move(owned), weft::yield_now());
    co_return std::make_pair(a.index(), b.index());
  }(kept, owned));
  CHECK(winners.first == 1);
  CHECK(winners.second == 1);
  drain(ex);
  CHECK(live.load() == 1);  // `owned` went with its losing branch
  g1.open();
  int v = ex.run([](weft::JoinHandle<int>& kept) -> weft::Task<int> {
    auto r = co_await weft::when_any(kept, weft::sleep_for(10s));
    co_return r.index() == 0 ? std::get<0>(r) : -1;
  }(kept));
  CHECK(v == 1);
}

TEST_CASE("timeout over a receive: deadline, then the item is still there", "[select][timeout]") {
  weft::Channel<std::string> ch;
  auto first = weft::block_on([](weft::Channel<std::string>& ch) -> weft::Task<absl::Status> {
    auto r = co_await weft::timeout(5ms, ch.recv());
    co_return r.status();
  }(ch));
  CHECK(absl::IsDeadlineExceeded(first));
  REQUIRE(ch.try_send("x").ok());
  auto second = weft::block_on([](weft::Channel<std::string>& ch) -> weft::Task<std::string> {
    auto r = co_await weft::timeout(10s, ch.recv());
    if (!r.ok() || !r->ok()) co_return "";
    co_return **r;
  }(ch));
  CHECK(second == "x");
  // A void awaitable: absl::Status.
  absl::Status s = weft::block_on([]() -> weft::Task<absl::Status> {
    co_return co_await weft::timeout(10s, weft::sleep_for(1ms));
  }());
  CHECK(s.ok());
}

TEST_CASE("a send that loses is not delivered, and a full channel keeps its items",
          "[select][channel]") {
  weft::Channel<int> ch(1);
  REQUIRE(ch.try_send(1).ok());
  size_t winner = weft::block_on([](weft::Channel<int>& ch) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(ch.send(2), weft::sleep_for(5ms));
    co_return r.index();
  }(ch));
  CHECK(winner == 1);
  CHECK(ch.size() == 1);
  CHECK(*ch.try_recv() == 1);
  CHECK(ch.try_recv().status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("cancelling the task that awaits when_any withdraws its receive", "[select][cancel]") {
  weft::LocalExecutor ex;
  weft::Channel<int> ch;
  {
    auto h = ex.spawn([](weft::Channel<int>& ch) -> weft::Task<void> {
      (void)co_await weft::when_any(ch.recv(), weft::sleep_for(10s));
    }(ch));
    drain(ex);
  }  // dropped: cancelled
  drain(ex);
  REQUIRE(ch.try_send(3).ok());
  CHECK(*ch.try_recv() == 3);
}

// Two producers on other workers; the consumer races receives of both
// channels and a yield, many times. Every item arrives exactly once, each
// channel's in order.
TEST_CASE("racing receives lose no item", "[select][channel][stress]") {
  constexpr int kItems = 2000;
  weft::Executor ex;
  weft::Channel<int> a(8), b(8);
  auto producer = [](weft::Channel<int>& ch) -> weft::Task<void> {
    for (int i = 0; i < kItems; ++i) {
      if (!(co_await ch.send(i)).ok()) co_return;
      if (i % 7 == 0) co_await weft::yield_now();
    }
    ch.close();
  };
  auto got = weft_test::run_on_two_workers(
      ex, [](weft::Executor& ex, weft::Channel<int>& a, weft::Channel<int>& b,
             auto producer) -> weft::Task<std::pair<std::vector<int>, std::vector<int>>> {
        auto pa = ex.spawn(producer(a));
        auto pb = ex.spawn(producer(b));
        std::vector<int> from_a, from_b;
        bool a_open = true, b_open = true;
        while (a_open || b_open) {
          if (a_open && b_open) {
            auto r = co_await weft::when_any(a.recv(), b.recv(), weft::yield_now());
            if (r.index() == 0) {
              auto v = std::get<0>(std::move(r));
              if (v.ok()) from_a.push_back(*v); else a_open = false;
            } else if (r.index() == 1) {
              auto v = std::get<1>(std::move(r));
              if (v.ok()) from_b.push_back(*v); else b_open = false;
            }
          } else {
            weft::Channel<int>& ch = a_open ? a : b;
            auto r = co_await weft::timeout(1ms, ch.recv());
            if (!r.ok()) continue;  // timed out: try again
            if (r->ok()) {
              (a_open ? from_a : from_b).push_back(**r);
            } else {
              (a_open ? a_open : b_open) = false;
            }
          }
        }
        co_await pa;
        co_await pb;
        co_return std::make_pair(std::move(from_a), std::move(from_b));
      }(ex, a, b, producer));
  REQUIRE(got.first.size() == kItems);
  REQUIRE(got.second.size() == kItems);
  for (int i = 0; i < kItems; ++i) {
    CHECK(got.first[i] == i);
    CHECK(got.second[i] == i);
  }
}
