// Sender / Receiver handles: the channel closes when the last sender or the
// last receiver goes; many producers and consumers lose and duplicate
// nothing; misuse of a moved-from handle fails loudly.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::drain;

namespace {

// Moves its Sender into a local: a finished task's parameters live until
// its JoinHandle goes (join_handle.h), and would keep the channel open.
weft::Task<void> produce(weft::Sender<int> tx_param, int from, int n) {
  weft::Sender<int> tx = std::move(tx_param);
  for (int i = from; i < from + n; ++i) {
    if (!(co_await tx.send(i)).ok()) co_return;
    if (i % 5 == 0) co_await weft::yield_now();
  }
}  // tx dropped here

weft::Task<std::vector<int>> consume(weft::Receiver<int> rx_param) {
  weft::Receiver<int> rx = std::move(rx_param);
  std::vector<int> out;
  for (;;) {
    absl::StatusOr<int> v = co_await rx.recv();
    if (!v.ok()) {
      // Any worker may run this: not a Catch2 assertion (not thread-safe).
      weft_test::must(absl::IsOutOfRange(v.status()), "a receive ended with OUT_OF_RANGE");
      co_return out;
    }
    out.push_back(*v);
  }
}

}  // namespace

TEST_CASE("the last sender's drop closes the channel; receivers drain first",
          "[channel][handles]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::channel<int>(2);
  auto consumer = ex.spawn(consume(std::move(rx)));
  auto p1 = ex.spawn(produce(tx, 0, 10));
  auto p2 = ex.spawn(produce(tx, 100, 10));
  drain(ex);
  CHECK_FALSE(consumer.is_finished());  // `tx` itself still holds it open
  { weft::Sender<int> last = std::move(tx); }
  drain(ex);
  REQUIRE(consumer.is_finished());
  std::vector<int> got = ex.run([](weft::JoinHandle<std::vector<int>>& h)
                                    -> weft::Task<std::vector<int>> { co_return co_await h; }(consumer));
  CHECK(got.size() == 20);
}

TEST_CASE("the last receiver's drop closes the channel: sends hand the value back",
          "[channel][handles]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::channel<std::string>(1);
  REQUIRE(tx.try_send("a").ok());
  auto waiting = ex.spawn([](weft::Sender<std::string>& tx) -> weft::Task<std::string> {
    weft::SendResult<std::string> r = co_await tx.send("b");  // full: waits
    CHECK(r.is_closed());
    co_return r.is_closed() ? std::move(r).value() : "";
  }(tx));
  drain(ex);
  weft::Receiver<std::string> rx2 = rx;  // two receivers
  { weft::Receiver<std::string> gone = std::move(rx); }
  drain(ex);
  CHECK_FALSE(waiting.is_finished());
  CHECK_FALSE(tx.is_closed());
  { weft::Receiver<std::string> gone = std::move(rx2); }
  CHECK(tx.is_closed());
  drain(ex);
  REQUIRE(waiting.is_finished());
  CHECK(ex.run([](weft::JoinHandle<std::string>& h) -> weft::Task<std::string> {
          co_return co_await h;
        }(waiting)) == "b");
  weft::SendResult<std::string> r = tx.try_send("c");
  CHECK(r.is_closed());
  CHECK(std::move(r).value() == "c");
}

TEST_CASE("a moved-from handle fails loudly", "[channel][handles][misuse]") {
  auto [tx, rx] = weft::unbounded_channel<int>();
  weft::Sender<int> t2 = std::move(tx);
  weft::Receiver<int> r2 = std::move(rx);
  CHECK_THROWS_AS(tx.try_send(1), std::logic_error);
  CHECK_THROWS_AS(rx.try_recv(), std::logic_error);
  CHECK(t2.try_send(1).ok());
  CHECK(*r2.try_recv() == 1);
  CHECK_THROWS_AS(weft::channel<int>(0), std::invalid_argument);
}

// Producers and consumers on two workers, handles copied and dropped on
// both; the channel ends only because the last producer's Sender goes.
TEST_CASE("many senders and receivers: every item exactly once", "[channel][handles][stress]") {
  constexpr int kProducers = 4, kPer = 500, kConsumers = 3;
  weft::Executor ex;
  std::vector<std::vector<int>> results = weft_test::run_on_two_workers(
      ex, [](weft::Executor& ex) -> weft::Task<std::vector<std::vector<int>>> {
        std::vector<weft::JoinHandle<std::vector<int>>> consumers;
        std::vector<weft::JoinHandle<void>> producers;
        {
          auto [tx, rx] = weft::channel<int>(4);
          for (int c = 0; c < kConsumers; ++c) consumers.push_back(ex.spawn(consume(rx)));
          for (int p = 0; p < kProducers; ++p) {
            producers.push_back(ex.spawn(produce(tx, p * kPer, kPer)));
          }
        }  // our tx and rx go; the tasks hold the rest
        std::vector<std::vector<int>> out;
        for (auto& p : producers) co_await p;
        for (auto& c : consumers) out.push_back(co_await c);
        co_return out;
      }(ex));
  std::vector<int> seen(kProducers * kPer, 0);
  for (const auto& r : results) {
    // Each producer's items reach each consumer in the order sent.
    std::vector<int> last(kProducers, -1);
    for (int v : r) {
      REQUIRE(v >= 0);
      REQUIRE(v < kProducers * kPer);
      ++seen[v];
      CHECK(v > last[v / kPer]);
      last[v / kPer] = v;
    }
  }
  for (int i = 0; i < kProducers * kPer; ++i) REQUIRE(seen[i] == 1);
}

// Drops of the last sender and the last receiver race on two threads; the
// channel state must be freed exactly once (ASan / TSan watch this).
TEST_CASE("the last drops race without a leak or a double free", "[channel][handles][stress]") {
  for (int round = 0; round < 2000; ++round) {
    auto [tx, rx] = weft::channel<int>(1);
    REQUIRE(tx.try_send(round).ok());
    std::thread t([tx = std::move(tx)]() mutable { weft::Sender<int> gone = std::move(tx); });
    { weft::Receiver<int> gone = std::move(rx); }
    t.join();
  }
}
