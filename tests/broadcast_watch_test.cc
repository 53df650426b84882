// broadcast: every receiver sees every value, in order; a lagging receiver
// is told how many it missed; closing; cancel-safe receives.
// watch: the latest value, changes coalesced, cancel-safe changed().
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using namespace std::chrono_literals;
using weft_test::drain;

namespace {

// Receives until closed; records values and lags.
struct Seen {
  std::vector<int> values;
  uint64_t missed = 0;
};
weft::Task<Seen> follow(weft::BroadcastReceiver<int> rx) {
  Seen s;
  for (;;) {
    absl::StatusOr<int> v = co_await rx.recv();
    if (v.ok()) {
      s.values.push_back(*v);
    } else if (weft::is_lagged(v.status())) {
      s.missed += rx.missed();
    } else {
      co_return s;
    }
  }
}

}  // namespace

TEST_CASE("broadcast: every receiver gets every value in order", "[broadcast]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::broadcast<int>(16);
  auto rx2 = tx.subscribe();
  auto a = ex.spawn(follow(std::move(rx)));
  auto b = ex.spawn(follow(std::move(rx2)));
  drain(ex);
  for (int i = 0; i < 10; ++i) REQUIRE(tx.send(i).ok());
  { auto gone = std::move(tx); }  // the last sender: receivers drain, then end
  drain(ex);
  REQUIRE(a.is_finished());
  REQUIRE(b.is_finished());
  auto both = ex.run([](weft::JoinHandle<Seen>& a, weft::JoinHandle<Seen>& b)
                         -> weft::Task<std::pair<Seen, Seen>> {
    Seen x = co_await a;
    Seen y = co_await b;
    co_return std::make_pair(std::move(x), std::move(y));
  }(a, b));
  std::vector<int> expect{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(both.first.values == expect);
  CHECK(both.second.values == expect);
}

TEST_CASE("broadcast: a lagging receiver is told how many it missed", "[broadcast]") {
  auto [tx, rx] = weft::broadcast<int>(2);
  for (int i = 0; i < 5; ++i) REQUIRE(tx.send(i).ok());
  absl::StatusOr<int> r = rx.try_recv();
  REQUIRE(weft::is_lagged(r.status()));
  CHECK(rx.missed() == 3);
  CHECK(*rx.try_recv() == 3);
  CHECK(*rx.try_recv() == 4);
  CHECK(absl::IsUnavailable(rx.try_recv().status()));
  // The awaiting form reports it the same way.
  for (int i = 5; i < 9; ++i) REQUIRE(tx.send(i).ok());
  auto lag = weft::block_on([](weft::BroadcastReceiver<int>& rx) -> weft::Task<uint64_t> {
    absl::StatusOr<int> v = co_await rx.recv();
    co_return weft::is_lagged(v.status()) ? rx.missed() : 0;
  }(rx));
  CHECK(lag == 2);
}

TEST_CASE("broadcast: no receiver left, the send hands the value back", "[broadcast]") {
  auto [tx, rx] = weft::broadcast<std::string>(4);
  { auto gone = std::move(rx); }
  weft::SendResult<std::string> r = tx.send("x");
  REQUIRE(r.is_closed());
  CHECK(std::move(r).value() == "x");
  auto late = tx.subscribe();  // a new receiver: sends work again
  CHECK(tx.send("y").ok());
  CHECK(*late.try_recv() == "y");
}

TEST_CASE("broadcast: a recv that loses a race consumes nothing", "[broadcast][select]") {
  auto [tx, rx] = weft::broadcast<int>(4);
  size_t winner = weft::block_on([](weft::BroadcastReceiver<int>& rx) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(rx.recv(), weft::sleep_for(5ms));
    co_return r.index();
  }(rx));
  CHECK(winner == 1);
  REQUIRE(tx.send(7).ok());
  CHECK(*rx.try_recv() == 7);
}

// A sender and three followers on two workers. With room for everything no
// follower lags; with a small ring, what each saw plus what it was told it
// missed is everything, in order.
TEST_CASE("broadcast: followers on other workers see everything or count it", "[broadcast][stress]") {
  constexpr int kValues = 3000;
  for (size_t capacity : {size_t{kValues}, size_t{4}}) {
    weft::Executor ex;
    std::vector<Seen> seen = weft_test::run_on_two_workers(
        ex, [](weft::Executor& ex, size_t capacity) -> weft::Task<std::vector<Seen>> {
          auto [tx, rx] = weft::broadcast<int>(capacity);
          std::vector<weft::JoinHandle<Seen>> followers;
          followers.push_back(ex.spawn(follow(tx.subscribe())));
          followers.push_back(ex.spawn(follow(tx.subscribe())));
          followers.push_back(ex.spawn(follow(std::move(rx))));
          for (int i = 0; i < kValues; ++i) {
            weft_test::must(tx.send(i).ok(), "a send with receivers succeeds");
            if (i % 3 == 0) co_await weft::yield_now();
          }
          { auto gone = std::move(tx); }
          std::vector<Seen> out;
          for (auto& f : followers) out.push_back(co_await f);
          co_return out;
        }(ex, capacity));
    for (const Seen& s : seen) {
      CHECK(s.values.size() + s.missed == kValues);
      for (size_t i = 1; i < s.values.size(); ++i) REQUIRE(s.values[i] > s.values[i - 1]);
      if (capacity == kValues) CHECK(s.missed == 0);
    }
  }
}

TEST_CASE("watch: changed() sees the latest value; changes coalesce", "[watch]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::watch<int>(0);
  CHECK(rx.get() == 0);
  CHECK_FALSE(rx.has_changed());
  auto h = ex.spawn([](weft::WatchReceiver<int>& rx) -> weft::Task<std::vector<int>> {
    std::vector<int> out;
    while ((co_await rx.changed()).ok()) out.push_back(rx.get());
    co_return out;
  }(rx));
  drain(ex);
  tx.send(1);
  tx.send(2);  // coalesced with 1: the waiter sees 2
  drain(ex);
  tx.send(3);
  drain(ex);
  { auto gone = std::move(tx); }
  drain(ex);
  REQUIRE(h.is_finished());
  auto out = ex.run([](weft::JoinHandle<std::vector<int>>& h) -> weft::Task<std::vector<int>> {
    co_return co_await h;
  }(h));
  CHECK(out == std::vector<int>{2, 3});
}

TEST_CASE("watch: a changed() that loses marks nothing seen", "[watch][select]") {
  auto [tx, rx] = weft::watch<std::string>("a");
  size_t winner = weft::block_on([](weft::WatchReceiver<std::string>& rx) -> weft::Task<size_t> {
    auto r = co_await weft::when_any(rx.changed(), weft::sleep_for(5ms));
    co_return r.index();
  }(rx));
  CHECK(winner == 1);
  tx.send("b");
  CHECK(rx.has_changed());
  CHECK(rx.get_and_mark_seen() == "b");
  CHECK_FALSE(rx.has_changed());
  auto rx2 = tx.subscribe();
  CHECK_FALSE(rx2.has_changed());
}

// The sender on another thread bumps the value many times; the watcher
// must end having seen the last value (no lost wake-up).
TEST_CASE("watch: the last value is never missed", "[watch][stress]") {
  constexpr int kSends = 5000;
  auto [tx, rx] = weft::watch<int>(-1);
  std::thread sender([tx = std::move(tx)]() mutable {
    for (int i = 0; i < kSends; ++i) tx.send(i);
  });  // its WatchSender goes when the thread ends: changed() then reports the end
  int last = weft::block_on([](weft::WatchReceiver<int>& rx) -> weft::Task<int> {
    int v = -1;
    while ((co_await rx.changed()).ok()) {
      int now = rx.get();
      weft_test::must(now >= v, "watch values only move forward");
      v = now;
    }
    co_return rx.get();
  }(rx));
  sender.join();
  CHECK(last == kSends - 1);
}
