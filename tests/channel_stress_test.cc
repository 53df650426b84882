// Channel<T> under load on a two-worker Executor: every item received exactly
// once and in order per producer, also while another thread cancels
// receivers and senders at arbitrary points of their waits.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::FrameToken;
using weft_test::run_on_two_workers;

namespace {

// Items carry (producer, sequence number).
constexpr uint64_t item(uint64_t producer, uint64_t seq) { return producer << 32 | seq; }
constexpr uint64_t producer_of(uint64_t v) { return v >> 32; }
constexpr uint64_t seq_of(uint64_t v) { return v & 0xffffffffu; }

weft::Task<void> produce(weft::Channel<uint64_t>& ch, uint64_t producer, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    weft::SendResult<uint64_t> r = co_await ch.send(item(producer, i));
    if (!r.ok()) throw std::runtime_error("send failed");
  }
}

// Receives until closed; returns what it got, in order.
weft::Task<std::vector<uint64_t>> consume(weft::Channel<uint64_t>& ch) {
  std::vector<uint64_t> got;
  for (;;) {
    absl::StatusOr<uint64_t> v = co_await ch.recv();
    if (!v.ok()) {
      if (!absl::IsOutOfRange(v.status())) throw std::runtime_error("unexpected status");
      co_return got;
    }
    got.push_back(*v);
  }
}

// Checks that `per_consumer` together hold (p, 0..n-1) for each of
// `producers` exactly once, each consumer seeing one producer's items in order.
void check_exactly_once_in_order(const std::vector<std::vector<uint64_t>>& per_consumer,
                                 uint64_t producers, uint64_t n) {
  std::vector<std::vector<uint8_t>> seen(producers, std::vector<uint8_t>(n, 0));
  uint64_t total = 0;
  for (const auto& got : per_consumer) {
    std::vector<int64_t> last(producers, -1);
    for (uint64_t v : got) {
      uint64_t p = producer_of(v), s = seq_of(v);
      REQUIRE(p < producers);
      REQUIRE(s < n);
      REQUIRE(static_cast<int64_t>(s) > last[p]);  // FIFO per producer
      last[p] = static_cast<int64_t>(s);
      REQUIRE(seen[p][s] == 0);  // not twice
      seen[p][s] = 1;
      ++total;
    }
  }
  CHECK(total == producers * n);  // none lost
}

}  // namespace

TEST_CASE("4 producers x 4 consumers x 250,000 items: each received once, in order",
          "[channel][stress]") {
  constexpr uint64_t kProducers = 4;
  constexpr uint64_t kConsumers = 4;
  // Items per producer. With capacity 1 nearly every send and receive waits,
  // which costs ~20 s under TSan at 250,000: that variant runs a tenth.
  const auto [capacity, items] = GENERATE(table<size_t, uint64_t>({
      {16, 250'000},
      {1, 25'000},
  }));
  weft::Executor ex;
  weft::Channel<uint64_t> ch(capacity);
  auto per_consumer = run_on_two_workers(
      ex, [](weft::Executor& ex, weft::Channel<uint64_t>& ch,
             uint64_t items) -> weft::Task<std::vector<std::vector<uint64_t>>> {
        std::vector<weft::JoinHandle<void>> producers;
        std::vector<weft::JoinHandle<std::vector<uint64_t>>> consumers;
        for (uint64_t c = 0; c < kConsumers; ++c) consumers.push_back(ex.spawn(consume(ch)));
        for (uint64_t p = 0; p < kProducers; ++p) producers.push_back(ex.spawn(produce(ch, p, items)));
        for (auto& h : producers) co_await h;
        ch.close();
        std::vector<std::vector<uint64_t>> out;
        for (auto& h : consumers) out.push_back(co_await h);
        co_return out;
      }(ex, ch, items));
  check_exactly_once_in_order(per_consumer, kProducers, items);
}

namespace {

struct Ledger {
  std::mutex mu;
  std::vector<uint64_t> received;     // by cancellable receivers that completed
  std::vector<uint64_t> sent_extra;  // by cancellable senders that saw ok()
};

weft::Task<void> cancellable_recv(weft::Channel<uint64_t>& ch, Ledger& ledger,
                                  std::atomic<bool>* started, FrameToken) {
  // release: pairs with the canceller's acquire load.
  started->store(true, std::memory_order_release);
  absl::StatusOr<uint64_t> v = co_await ch.recv();
  if (v.ok()) {
    std::lock_guard<std::mutex> l(ledger.mu);
    ledger.received.push_back(*v);
  }
}

weft::Task<void> cancellable_send(weft::Channel<uint64_t>& ch, Ledger& ledger, uint64_t v,
                                  std::atomic<bool>* started, FrameToken) {
  // release: pairs with the canceller's acquire load.
  started->store(true, std::memory_order_release);
  weft::SendResult<uint64_t> r = co_await ch.send(v);
  if (r.ok()) {
    std::lock_guard<std::mutex> l(ledger.mu);
    ledger.sent_extra.push_back(v);
  }
}

}  // namespace

// Receivers and senders spawned from a foreign thread and cancelled (their
// JoinHandle dropped) at random moments while the same thread serves them.
// Each round a receiver queues on an empty channel, is promised an item by
// try_send, and is cancelled before, while or after it resumes; then a
// sender queues on a full channel, its value is pulled in by try_recv (or
// not), racing with its cancellation in the same way. Nothing may be lost or
// duplicated, and nobody may hang.
TEST_CASE("cancelling receivers and senders at random points loses nothing",
          "[channel][stress][cancel]") {
  constexpr uint64_t kRounds = 10'000;
  constexpr uint32_t kMaxSpin = 4000;  // ~ the time a woken task takes to resume
  constexpr uint64_t kSent = 0, kSender = 1, kFiller = 2;  // producer ids
  weft::Executor ex;
  weft::Channel<uint64_t> to_receivers;  // unbounded: try_send always succeeds
  weft::Channel<uint64_t> from_senders(1);
  Ledger ledger;
  // Owned by the canceller thread until it is joined:
  std::vector<uint64_t> leftovers;  // items no receiver took, drained each round
  std::vector<uint64_t> pulled;     // what the canceller took from from_senders
  std::atomic<int> live{0};
  weft_test::Gate canceller_done;

  using weft_test::spin;
  auto wait_until = [](auto done) {
    while (!done()) std::this_thread::yield();
  };
  std::thread canceller([&] {
    std::mt19937 rng(12345);
    for (uint64_t i = 0; i < kRounds; ++i) {
      std::atomic<bool> r_started{false}, s_started{false};
      // acquire: pairs with the tasks' release stores and FrameToken's
      // release decrement.
      auto started = [](std::atomic<bool>& b) {
        return [&b] { return b.load(std::memory_order_acquire); };
      };
      auto frames_gone = [&] { return live.load(std::memory_order_acquire) == 0; };
      {
        std::optional<weft::JoinHandle<void>> r =
            ex.spawn(cancellable_recv(to_receivers, ledger, &r_started, FrameToken(&live)));
        wait_until(started(r_started));
        spin(rng() % kMaxSpin);
        // A third of the rounds cancel first: r is then still queued (or being
        // destroyed) when the item is promised to it. A third cancel right
        // after the send, the rest after a random delay.
        const uint32_t order = rng() % 3;
        if (order == 0) r.reset();
        weft_test::must(to_receivers.try_send(item(kSent, i)).ok(), "try_send to an unbounded channel");
        if (order == 2) spin(rng() % kMaxSpin);
      }  // r cancelled
      wait_until(frames_gone);
      for (auto v = to_receivers.try_recv(); v.ok(); v = to_receivers.try_recv()) {
        leftovers.push_back(*v);  // the promise was given up, or r was gone
      }
      if (from_senders.size() == 0) {
        weft_test::must(from_senders.try_send(item(kFiller, i)).ok(), "try_send to an empty channel");
      }
      {
        std::optional<weft::JoinHandle<void>> s = ex.spawn(
            cancellable_send(from_senders, ledger, item(kSender, i), &s_started, FrameToken(&live)));
        wait_until(started(s_started));
        spin(rng() % kMaxSpin);
        // As above; and a quarter of the rounds do not make room at all.
        const uint32_t order = rng() % 4;
        if (order == 0) s.reset();
        if (order != 3) {
          absl::StatusOr<uint64_t> v = from_senders.try_recv();
          if (v.ok()) pulled.push_back(*v);
        }
        if (order == 2) spin(rng() % kMaxSpin);
      }  // s cancelled
      wait_until(frames_gone);
    }
    canceller_done.open();
  });

  // The tasks run on two workers meanwhile.
  run_on_two_workers(ex, [](weft_test::Gate& canceller_done) -> weft::Task<void> {
    co_await canceller_done;
  }(canceller_done));
  canceller.join();
  for (auto v = from_senders.try_recv(); v.ok(); v = from_senders.try_recv()) {
    pulled.push_back(*v);
  }
  INFO("receivers served before their cancel: " << ledger.received.size()
       << ", sends that completed: " << ledger.sent_extra.size());

  // Receivers: each item sent went to exactly one receiver or was left over.
  std::vector<uint8_t> seen(kRounds, 0);
  for (const std::vector<uint64_t>* list : {&ledger.received, &leftovers}) {
    for (uint64_t v : *list) {
      REQUIRE(producer_of(v) == kSent);
      REQUIRE(seen[seq_of(v)] == 0);
      seen[seq_of(v)] = 1;
    }
  }
  CHECK(ledger.received.size() + leftovers.size() == kRounds);

  // Senders: a value arrives at most once; every send that reported ok()
  // arrived (one may also complete just before its task is cancelled, so
  // arrivals may outnumber the ok()s); every filler arrived.
  std::vector<uint8_t> arrived(kRounds, 0);
  for (uint64_t v : pulled) {
    if (producer_of(v) == kFiller) continue;
    REQUIRE(producer_of(v) == kSender);
    REQUIRE(arrived[seq_of(v)] == 0);
    arrived[seq_of(v)] = 1;
  }
  for (uint64_t v : ledger.sent_extra) CHECK(arrived[seq_of(v)] == 1);
  CHECK(live.load() == 0);
}

// A Channel destroyed on one thread while the tasks waiting on it are
// cancelled on another: each waiting awaiter keeps the channel's state
// alive until it has let go of it, so neither side touches freed memory
// (ASan) or races (TSan), whichever goes first. The tasks run on a
// LocalExecutor owned by this thread, so they are certainly suspended in
// the channel (the contract) before the race starts.
TEST_CASE("destroying a channel while its waiting tasks are cancelled elsewhere",
          "[channel][stress][cancel]") {
  constexpr int kRounds = 2'000;
  weft::LocalExecutor ex;
  std::atomic<int> live{0};
  std::mt19937 rng(99);
  for (int i = 0; i < kRounds; ++i) {
    auto ch = std::make_unique<weft::Channel<uint64_t>>(1);
    REQUIRE(ch->try_send(0).ok());  // full: the sender waits
    auto s = ex.spawn([](weft::Channel<uint64_t>& ch, FrameToken) -> weft::Task<void> {
      (void)co_await ch.send(1);
    }(*ch, FrameToken(&live)));
    auto r1 = ex.spawn([](weft::Channel<uint64_t>& ch, FrameToken) -> weft::Task<void> {
      (void)co_await ch.recv();  // takes the 0; the sender's 1 moves in
      (void)co_await ch.recv();  // takes the 1
      (void)co_await ch.recv();  // waits
    }(*ch, FrameToken(&live)));
    auto r2 = ex.spawn([](weft::Channel<uint64_t>& ch, FrameToken) -> weft::Task<void> {
      (void)co_await ch.recv();  // waits
    }(*ch, FrameToken(&live)));
    weft_test::drain(ex);  // s finished; r1 and r2 wait in the channel
    s = {};                // (its handle kept the finished frame)
    std::thread destroyer([&ch, spin = rng() % 4000] {
      weft_test::spin(spin);
      ch.reset();
    });
    weft_test::spin(rng() % 4000);
    r1 = {};  // cancel both: their frames go on this thread, in drain()
    r2 = {};
    weft_test::drain(ex);
    destroyer.join();
    weft_test::drain(ex);  // anything the destruction woke after all
    REQUIRE(live.load() == 0);
  }
}
