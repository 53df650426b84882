// Channel<T>: order, back-pressure, try_*, close, destruction, and
// cancellation of waiting and already-served tasks.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "weft.h"

using weft_test::Counted;

namespace {

void drain(weft::LocalExecutor& ex) {
  while (ex.try_tick()) {
  }
}

weft::Task<void> send_all(weft::Channel<int>& ch, int from, int to) {
  for (int i = from; i < to; ++i) {
    weft::SendResult<int> r = co_await ch.send(i);
    REQUIRE(r.ok());
  }
}

weft::Task<std::vector<int>> recv_until_closed(weft::Channel<int>& ch) {
  std::vector<int> got;
  for (;;) {
    absl::StatusOr<int> v = co_await ch.recv();
    if (!v.ok()) {
      CHECK(absl::IsOutOfRange(v.status()));
      co_return got;
    }
    got.push_back(*v);
  }
}

// Receives one item into *out; *done counts completions.
weft::Task<void> recv_one(weft::Channel<int>& ch, absl::StatusOr<int>* out, int* done) {
  *out = co_await ch.recv();
  ++*done;
}

weft::Task<void> send_one(weft::Channel<int>& ch, int v, weft::SendResult<int>* out, int* done) {
  *out = co_await ch.send(v);
  ++*done;
}

}  // namespace

// Never put co_await inside a Catch assertion: CHECK repeats its expression
// in an unevaluated `false && (...)`, and g++ 12 still runs a co_await there.
TEST_CASE("a bounded channel delivers in order under block_on", "[channel]") {
  weft::Channel<int> ch(2);
  std::vector<int> got = weft::block_on([&]() -> weft::Task<std::vector<int>> {
    std::vector<int> out;
    weft::SendResult<int> r1 = co_await ch.send(1);
    weft::SendResult<int> r2 = co_await ch.send(2);
    CHECK(r1.ok());
    CHECK(r2.ok());
    CHECK(ch.size() == 2);
    CHECK(ch.try_send(3).is_full());
    out.push_back(*co_await ch.recv());
    weft::SendResult<int> r3 = co_await ch.send(3);
    CHECK(r3.ok());
    out.push_back(*co_await ch.recv());
    out.push_back(*co_await ch.recv());
    co_return out;
  }());
  CHECK(got == std::vector<int>{1, 2, 3});
}

TEST_CASE("a producer on another thread feeds a block_on consumer", "[channel]") {
  weft::Channel<int> ch(4);
  std::thread producer([&] {
    weft::block_on(send_all(ch, 0, 10'000));
    ch.close();
  });
  std::vector<int> got = weft::block_on(recv_until_closed(ch));
  producer.join();
  REQUIRE(got.size() == 10'000);
  for (int i = 0; i < 10'000; ++i) REQUIRE(got[i] == i);
}

TEST_CASE("an unbounded channel never makes a sender wait", "[channel]") {
  weft::Channel<std::unique_ptr<int>> ch;
  CHECK(ch.capacity() == weft::Channel<std::unique_ptr<int>>::kUnbounded);
  for (int i = 0; i < 1000; ++i) REQUIRE(ch.try_send(std::make_unique<int>(i)).ok());
  CHECK(ch.size() == 1000);
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<std::unique_ptr<int>> v = ch.try_recv();
    REQUIRE(v.ok());
    CHECK(**v == i);
  }
  CHECK(absl::IsUnavailable(ch.try_recv().status()));
}

TEST_CASE("capacity 0 is refused", "[channel][misuse]") {
  CHECK_THROWS_AS(weft::Channel<int>(0), std::invalid_argument);
}

TEST_CASE("try_send and try_recv report full, empty and closed", "[channel]") {
  weft::Channel<std::string> ch(1);
  absl::StatusOr<std::string> empty = ch.try_recv();
  CHECK(absl::IsUnavailable(empty.status()));
  CHECK_FALSE(weft::is_closed(empty.status()));

  CHECK(ch.try_send("a").ok());
  weft::SendResult<std::string> full = ch.try_send("b");
  CHECK(full.is_full());
  CHECK(absl::IsUnavailable(full.status()));
  CHECK(full.value() == "b");  // the value comes back

  CHECK(ch.close());
  CHECK_FALSE(ch.close());  // only once
  weft::SendResult<std::string> closed = ch.try_send("c");
  CHECK(closed.is_closed());
  CHECK(absl::IsFailedPrecondition(closed.status()));
  CHECK(weft::is_closed(closed.status()));
  CHECK(std::move(closed).value() == "c");

  CHECK(*ch.try_recv() == "a");  // buffered items outlive the close
  absl::StatusOr<std::string> end = ch.try_recv();
  CHECK(absl::IsOutOfRange(end.status()));
  CHECK(weft::is_closed(end.status()));
  CHECK_THROWS_AS(weft::SendResult<int>::sent().value(), std::logic_error);
}

TEST_CASE("receivers see buffered items, then closed; senders get their value back",
          "[channel][close]") {
  weft::Channel<int> ch(3);
  weft::LocalExecutor ex;
  REQUIRE(ch.try_send(1).ok());
  REQUIRE(ch.try_send(2).ok());
  REQUIRE(ch.try_send(3).ok());
  // A fourth sender waits for room.
  weft::SendResult<int> late = weft::SendResult<int>::sent();
  int sent = 0;
  auto hs = ex.spawn(send_one(ch, 4, &late, &sent));
  drain(ex);
  REQUIRE(sent == 0);
  ch.close();  // wakes the waiting sender: closed, value back
  drain(ex);
  REQUIRE(sent == 1);
  CHECK(late.is_closed());
  CHECK(late.value() == 4);
  auto got = ex.run(recv_until_closed(ch));
  CHECK(got == std::vector<int>{1, 2, 3});
}

TEST_CASE("close wakes every waiting receiver with closed", "[channel][close]") {
  weft::Channel<int> ch(1);
  weft::LocalExecutor ex;
  absl::StatusOr<int> r[3];
  int done = 0;
  std::vector<weft::JoinHandle<void>> hs;
  for (auto& out : r) hs.push_back(ex.spawn(recv_one(ch, &out, &done)));
  drain(ex);
  REQUIRE(done == 0);
  ch.close();
  drain(ex);
  CHECK(done == 3);
  for (auto& out : r) CHECK(absl::IsOutOfRange(out.status()));
}

TEST_CASE("waiting senders are served first come, first served", "[channel]") {
  weft::Channel<int> ch(1);
  weft::LocalExecutor ex;
  REQUIRE(ch.try_send(0).ok());
  weft::SendResult<int> r[3] = {weft::SendResult<int>::sent(), weft::SendResult<int>::sent(),
                                weft::SendResult<int>::sent()};
  int done = 0;
  std::vector<weft::JoinHandle<void>> hs;
  for (int i = 0; i < 3; ++i) {
    hs.push_back(ex.spawn(send_one(ch, i + 1, &r[i], &done)));
    drain(ex);  // each queues behind the previous one
  }
  REQUIRE(done == 0);
  // A sender that comes later does not overtake the waiting ones.
  for (int want = 0; want <= 3; ++want) {
    CHECK(ch.try_send(99).is_full());
    absl::StatusOr<int> v = ch.try_recv();
    REQUIRE(v.ok());
    CHECK(*v == want);
    drain(ex);
  }
  CHECK(done == 3);
}

TEST_CASE("a cancelled waiting receiver leaves no trace", "[channel][cancel]") {
  weft::Channel<int> ch(1);
  weft::LocalExecutor ex;
  absl::StatusOr<int> first, second;
  int done = 0;
  auto h1 = ex.spawn(recv_one(ch, &first, &done));
  auto h2 = ex.spawn(recv_one(ch, &second, &done));
  drain(ex);
  { auto dropped = std::move(h1); }  // cancel the first (queued) receiver
  drain(ex);
  REQUIRE(ch.try_send(7).ok());  // goes to the second, not to the dead first
  drain(ex);
  CHECK(done == 1);
  REQUIRE(second.ok());
  CHECK(*second == 7);
  CHECK(ch.size() == 0);
}

TEST_CASE("a receiver cancelled after it was promised an item passes the promise on",
          "[channel][cancel]") {
  weft::Channel<int> ch(4);
  weft::LocalExecutor ex;

  SECTION("to the next waiting receiver") {
    absl::StatusOr<int> first, second;
    int done = 0;
    auto h1 = ex.spawn(recv_one(ch, &first, &done));
    auto h2 = ex.spawn(recv_one(ch, &second, &done));
    drain(ex);
    REQUIRE(ch.try_send(1).ok());      // promised to the first; it is now scheduled
    CHECK(absl::IsUnavailable(ch.try_recv().status()));  // nobody may take it
    { auto dropped = std::move(h1); }  // cancelled before it resumed
    drain(ex);
    CHECK(done == 1);
    REQUIRE(second.ok());
    CHECK(*second == 1);
  }
  SECTION("back to the channel, still ahead of later items") {
    absl::StatusOr<int> first;
    int done = 0;
    auto h1 = ex.spawn(recv_one(ch, &first, &done));
    drain(ex);
    REQUIRE(ch.try_send(1).ok());
    REQUIRE(ch.try_send(2).ok());
    { auto dropped = std::move(h1); }
    drain(ex);
    CHECK(done == 0);
    CHECK(*ch.try_recv() == 1);
    CHECK(*ch.try_recv() == 2);
  }
  SECTION("after close, a promised item keeps the channel from reading as drained") {
    absl::StatusOr<int> first;
    int done = 0;
    auto h1 = ex.spawn(recv_one(ch, &first, &done));
    drain(ex);
    REQUIRE(ch.try_send(1).ok());
    ch.close();
    CHECK(absl::IsUnavailable(ch.try_recv().status()));  // not OUT_OF_RANGE yet
    drain(ex);
    REQUIRE(done == 1);
    CHECK(*first == 1);
    CHECK(absl::IsOutOfRange(ch.try_recv().status()));
  }
  SECTION("after close, a receiver waits for a promise that is then given up") {
    weft::LocalExecutor other;  // runs the late receiver before h1 is cancelled
    absl::StatusOr<int> first, late;
    int done = 0;
    auto h1 = ex.spawn(recv_one(ch, &first, &done));
    drain(ex);
    REQUIRE(ch.try_send(1).ok());
    ch.close();
    auto h2 = other.spawn(recv_one(ch, &late, &done));
    drain(other);
    REQUIRE(done == 0);                 // waiting: the item is promised to h1
    { auto dropped = std::move(h1); }   // h1 cancelled before it resumed
    drain(ex);
    drain(other);
    CHECK(done == 1);
    REQUIRE(late.ok());                 // not "closed": the item was still there
    CHECK(*late == 1);
  }
}

TEST_CASE("a cancelled waiting sender's value is not sent", "[channel][cancel]") {
  weft::Channel<int> ch(1);
  weft::LocalExecutor ex;
  REQUIRE(ch.try_send(0).ok());
  weft::SendResult<int> r1 = weft::SendResult<int>::sent(), r2 = weft::SendResult<int>::sent();
  int done = 0;
  auto h1 = ex.spawn(send_one(ch, 1, &r1, &done));
  auto h2 = ex.spawn(send_one(ch, 2, &r2, &done));
  drain(ex);
  { auto dropped = std::move(h1); }
  drain(ex);
  CHECK(*ch.try_recv() == 0);
  drain(ex);
  CHECK(done == 1);
  CHECK(r2.ok());
  CHECK(*ch.try_recv() == 2);
  CHECK(absl::IsUnavailable(ch.try_recv().status()));
}

TEST_CASE("destroying a channel wakes its waiting tasks with closed", "[channel][close]") {
  weft::LocalExecutor ex;
  absl::StatusOr<int> got = 0;
  weft::SendResult<int> sent = weft::SendResult<int>::sent();
  int done = 0;
  weft::JoinHandle<void> hr, hs;
  {
    auto empty = std::make_unique<weft::Channel<int>>(1);
    auto full = std::make_unique<weft::Channel<int>>(1);
    REQUIRE(full->try_send(0).ok());
    hr = ex.spawn(recv_one(*empty, &got, &done));
    hs = ex.spawn(send_one(*full, 5, &sent, &done));
    drain(ex);
    REQUIRE(done == 0);
  }  // both channels destroyed under their waiting tasks
  drain(ex);
  CHECK(done == 2);
  CHECK(absl::IsOutOfRange(got.status()));
  CHECK(sent.is_closed());
  CHECK(sent.value() == 5);
}

TEST_CASE("an item promised to a receiver survives the channel's destruction", "[channel][close]") {
  weft::LocalExecutor ex;
  absl::StatusOr<int> got = 0;
  int done = 0;
  auto ch = std::make_unique<weft::Channel<int>>(1);
  auto h = ex.spawn(recv_one(*ch, &got, &done));
  drain(ex);
  REQUIRE(ch->try_send(9).ok());
  ch.reset();  // the receiver was promised the item but has not resumed yet
  drain(ex);
  CHECK(done == 1);
  REQUIRE(got.ok());
  CHECK(*got == 9);
}

TEST_CASE("items left in a destroyed channel are destroyed with it", "[channel][close]") {
  std::atomic<int> live{0};
  {
    weft::Channel<std::unique_ptr<Counted>> ch;
    for (int i = 0; i < 3; ++i) REQUIRE(ch.try_send(std::make_unique<Counted>(&live)).ok());
    CHECK(live == 3);
  }
  CHECK(live == 0);
}

TEST_CASE("two tasks ping-pong on a LocalExecutor", "[channel]") {
  weft::LocalExecutor ex;
  weft::Channel<int> ping(1), pong(1);
  auto echo = ex.spawn([](weft::Channel<int>& in, weft::Channel<int>& out) -> weft::Task<void> {
    for (;;) {
      absl::StatusOr<int> v = co_await in.recv();
      if (!v.ok()) co_return;
      (void)co_await out.send(*v + 1);
    }
  }(ping, pong));
  int last = ex.run([](weft::Channel<int>& ping, weft::Channel<int>& pong) -> weft::Task<int> {
    int v = 0;
    for (int i = 0; i < 1000; ++i) {
      (void)co_await ping.send(v);
      v = *co_await pong.recv();
    }
    ping.close();
    co_return v;
  }(ping, pong));
  CHECK(last == 1000);
}

// Issue #9 item 6: a Waker kept past its suspension is inert; the receiver
// stays queued and gets the next value.
TEST_CASE("a stale waker does not resume a receiver", "[channel][stale]") {
  weft::Channel<int> ch(1);
  weft::LocalExecutor ex;
  weft_test::WakerSlot slot;
  auto h = ex.spawn([](weft::Channel<int>& ch, weft_test::WakerSlot& slot) -> weft::Task<std::string> {
    co_await slot;
    try {
      (void)co_await ch.recv();
    } catch (const std::logic_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }(ch, slot));
  drain(ex);
  weft::Waker w = slot.take();
  weft::Waker stale = w;
  std::move(w).wake();
  drain(ex);            // the task now waits in recv
  stale.wake_by_ref();  // misuse: inert
  drain(ex);
  CHECK_FALSE(h.is_finished());
  REQUIRE(ch.try_send(1).ok());  // handed to the waiting receiver
  drain(ex);
  std::string what = ex.run([](weft::JoinHandle<std::string>& h) -> weft::Task<std::string> {
    co_return co_await h;
  }(h));
  CHECK(what == "no error");
  CHECK_FALSE(ch.try_recv().ok());  // the value went to the receiver
}
