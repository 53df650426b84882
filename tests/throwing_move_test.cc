// Channel<T> and oneshot<T> with a T whose move constructor throws on
// demand (issue #9, item 7): every path drops its references to the shared
// state, and no item that was not handed over is lost. What happens to the
// item whose move threw is the documented rule (sync/channel.h,
// sync/oneshot.h): a receive that throws leaves it in place, first in
// line; a send that throws fails with the exception, the value never
// having entered.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "test_util.h"
#include "weft.h"

namespace {

struct MoveFailed : std::runtime_error {
  MoveFailed() : std::runtime_error("move failed") {}
};

// Move-only; the move after the next `moves_until_failure` ones throws
// (before touching its source, so the item stays intact). Counts live
// objects, so a leaked channel state shows even without LeakSanitizer.
// The tests run on one thread (LocalExecutor), so plain statics do.
struct Fragile {
  static inline int moves_until_failure = -1;  // -1: never fail
  static inline int live = 0;

  explicit Fragile(int i) : id(i) { ++live; }
  Fragile(Fragile&& o) : id(o.id) {
    if (moves_until_failure == 0) {
      moves_until_failure = -1;
      throw MoveFailed();
    }
    if (moves_until_failure > 0) --moves_until_failure;
    ++live;
  }
  Fragile(const Fragile&) = delete;
  Fragile& operator=(const Fragile&) = delete;
  ~Fragile() { --live; }

  int id;
};

void drain(weft::LocalExecutor& ex) {
  while (ex.try_tick()) {
  }
}

// Receives once; records the item's id, or -1 if the receive threw MoveFailed.
weft::Task<void> recv_one(weft::Channel<Fragile>& ch, int* got) {
  try {
    absl::StatusOr<Fragile> v = co_await ch.recv();
    *got = v.ok() ? v->id : 0;
  } catch (const MoveFailed&) {
    *got = -1;
  }
}

// Sends `id`; records whether the send threw MoveFailed.
weft::Task<void> send_one(weft::Channel<Fragile>& ch, int id, bool* threw) {
  try {
    (void)co_await ch.send(Fragile(id));
  } catch (const MoveFailed&) {
    *threw = true;
  }
}

}  // namespace

TEST_CASE("a waiting receiver whose move throws gets the exception; the item stays first",
          "[channel][throwing_move]") {
  Fragile::live = 0;
  {
    weft::Channel<Fragile> ch(4);
    weft::LocalExecutor ex;
    int got = 0;
    auto h = ex.spawn(recv_one(ch, &got));
    drain(ex);  // the receiver waits
    REQUIRE(ch.try_send(Fragile(1)).ok());
    REQUIRE(ch.try_send(Fragile(2)).ok());
    Fragile::moves_until_failure = 0;  // the receiver's take
    drain(ex);
    CHECK(got == -1);
    absl::StatusOr<Fragile> first = ch.try_recv();
    REQUIRE(first.ok());
    CHECK(first->id == 1);
    // Item 2 stays in the channel: destroying the Channel must free the
    // state that holds it (the receiver's reference was dropped).
  }
  CHECK(Fragile::live == 0);
}

TEST_CASE("a receiver whose move throws passes the item to the next waiting receiver",
          "[channel][throwing_move]") {
  Fragile::live = 0;
  {
    weft::Channel<Fragile> ch;
    weft::LocalExecutor ex;
    int first = 0, second = 0;
    auto h1 = ex.spawn(recv_one(ch, &first));
    auto h2 = ex.spawn(recv_one(ch, &second));
    drain(ex);  // both wait, first in line first
    REQUIRE(ch.try_send(Fragile(7)).ok());  // reserved for the first
    Fragile::moves_until_failure = 0;       // the first's take throws
    drain(ex);
    CHECK(first == -1);
    CHECK(second == 7);
    CHECK(ch.size() == 0);
  }
  CHECK(Fragile::live == 0);
}

TEST_CASE("a receive that finds an item and whose move throws leaves the item for the next",
          "[channel][throwing_move]") {
  Fragile::live = 0;
  {
    weft::Channel<Fragile> ch(2);
    weft::LocalExecutor ex;
    REQUIRE(ch.try_send(Fragile(3)).ok());
    int threw = 0, then = 0;
    ex.run([&]() -> weft::Task<void> {
      Fragile::moves_until_failure = 0;
      co_await recv_one(ch, &threw);
      co_await recv_one(ch, &then);
    }());
    CHECK(threw == -1);
    CHECK(then == 3);
  }
  CHECK(Fragile::live == 0);
}

TEST_CASE("try_recv whose move throws rethrows and leaves the item first",
          "[channel][throwing_move]") {
  Fragile::live = 0;
  {
    weft::Channel<Fragile> ch;
    REQUIRE(ch.try_send(Fragile(4)).ok());
    REQUIRE(ch.try_send(Fragile(5)).ok());
    Fragile::moves_until_failure = 0;
    CHECK_THROWS_AS(ch.try_recv(), MoveFailed);
    CHECK(ch.size() == 2);
    absl::StatusOr<Fragile> v = ch.try_recv();
    REQUIRE(v.ok());
    CHECK(v->id == 4);
  }
  CHECK(Fragile::live == 0);
}

TEST_CASE("a waiting sender whose value cannot move in fails; the receive that made room works",
          "[channel][throwing_move]") {
  Fragile::live = 0;
  {
    weft::Channel<Fragile> ch(1);
    weft::LocalExecutor ex;
    REQUIRE(ch.try_send(Fragile(1)).ok());  // full
    bool send_threw = false;
    auto h = ex.spawn(send_one(ch, 2, &send_threw));
    drain(ex);  // the sender waits for room
    // The receive's own move succeeds; the waiting sender's move into the
    // room it made throws.
    Fragile::moves_until_failure = 1;
    absl::StatusOr<Fragile> v = ch.try_recv();
    REQUIRE(v.ok());
    CHECK(v->id == 1);
    drain(ex);
    CHECK(send_threw);
    CHECK(ch.size() == 0);
    CHECK(ch.try_send(Fragile(3)).ok());  // the channel goes on
  }
  CHECK(Fragile::live == 0);
}

TEST_CASE("a oneshot receive whose move throws leaves the value to receive again",
          "[oneshot][throwing_move]") {
  Fragile::live = 0;
  {
    auto [tx, rx] = weft::oneshot<Fragile>();
    REQUIRE(tx.send(Fragile(9)).ok());
    Fragile::moves_until_failure = 0;
    CHECK_THROWS_AS(rx.try_recv(), MoveFailed);
    absl::StatusOr<Fragile> v = rx.try_recv();
    REQUIRE(v.ok());
    CHECK(v->id == 9);
  }
  CHECK(Fragile::live == 0);
}

TEST_CASE("a oneshot send whose move throws leaves the sender unused",
          "[oneshot][throwing_move]") {
  Fragile::live = 0;
  {
    auto [tx, rx] = weft::oneshot<Fragile>();
    Fragile::moves_until_failure = 1;  // the move into the shared state
    CHECK_THROWS_AS(tx.send(Fragile(1)), MoveFailed);
    CHECK_FALSE(tx.is_closed());
    CHECK(absl::IsUnavailable(rx.try_recv().status()));
    REQUIRE(tx.send(Fragile(2)).ok());  // may send again
    absl::StatusOr<Fragile> v = rx.try_recv();
    REQUIRE(v.ok());
    CHECK(v->id == 2);
  }
  {
    auto [tx, rx] = weft::oneshot<Fragile>();
    Fragile::moves_until_failure = 1;
    CHECK_THROWS_AS(tx.send(Fragile(1)), MoveFailed);
    { auto gone = std::move(tx); }  // the sender goes away without sending
    CHECK(absl::IsOutOfRange(rx.try_recv().status()));
  }
  CHECK(Fragile::live == 0);
}
