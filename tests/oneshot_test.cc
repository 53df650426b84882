// oneshot<T>: value delivery across threads, a sender that goes away, a
// receiver that goes away, cancellation of a receiving task, misuse.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "sync_test_util.h"
#include "weft.h"

namespace {

void drain(weft::LocalExecutor& ex) {
  while (ex.try_tick()) {
  }
}

weft::Task<void> receive_into(weft::OneshotReceiver<std::string>& rx,
                              absl::StatusOr<std::string>* out, int* done) {
  *out = co_await rx;
  ++*done;
}

}  // namespace

TEST_CASE("a value sent from another thread reaches a block_on receiver", "[oneshot]") {
  auto [tx, rx] = weft::oneshot<std::unique_ptr<int>>();
  std::thread sender([tx = std::move(tx)]() mutable {
    weft::SendResult<std::unique_ptr<int>> r = tx.send(std::make_unique<int>(42));
    weft_test::must(r.ok(), "oneshot send");
  });
  absl::StatusOr<std::unique_ptr<int>> v =
      weft::block_on([](weft::OneshotReceiver<std::unique_ptr<int>>& rx)
                         -> weft::Task<absl::StatusOr<std::unique_ptr<int>>> {
        co_return co_await rx;
      }(rx));
  sender.join();
  REQUIRE(v.ok());
  CHECK(**v == 42);
}

TEST_CASE("a sender that goes away without sending closes the oneshot", "[oneshot]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::oneshot<std::string>();
  absl::StatusOr<std::string> got;
  int done = 0;
  auto h = ex.spawn(receive_into(rx, &got, &done));
  drain(ex);
  CHECK(done == 0);
  CHECK(absl::IsUnavailable(rx.try_recv().status()));
  { auto gone = std::move(tx); }
  drain(ex);
  CHECK(done == 1);
  CHECK(absl::IsOutOfRange(got.status()));
  CHECK(weft::is_closed(got.status()));
}

TEST_CASE("a send to a receiver that is gone hands the value back", "[oneshot]") {
  auto [tx, rx] = weft::oneshot<std::string>();
  CHECK_FALSE(tx.is_closed());
  { auto gone = std::move(rx); }
  CHECK(tx.is_closed());
  weft::SendResult<std::string> r = tx.send("back");
  CHECK(r.is_closed());
  CHECK(r.value() == "back");
}

TEST_CASE("a receiving task cancelled after the value arrived leaves it for the next await",
          "[oneshot][cancel]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::oneshot<std::string>();
  absl::StatusOr<std::string> first, second;
  int done = 0;
  auto h1 = ex.spawn(receive_into(rx, &first, &done));
  drain(ex);
  REQUIRE(tx.send("kept").ok());  // wakes h1...
  { auto dropped = std::move(h1); }  // ...which is cancelled before it resumes
  drain(ex);
  CHECK(done == 0);
  auto h2 = ex.spawn(receive_into(rx, &second, &done));
  drain(ex);
  CHECK(done == 1);
  REQUIRE(second.ok());
  CHECK(*second == "kept");
}

TEST_CASE("a cancelled waiting receiver leaves the oneshot usable", "[oneshot][cancel]") {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::oneshot<std::string>();
  absl::StatusOr<std::string> got;
  int done = 0;
  { auto h = ex.spawn(receive_into(rx, &got, &done)); drain(ex); }
  drain(ex);
  REQUIRE(tx.send("later").ok());
  CHECK(*rx.try_recv() == "later");
  CHECK(done == 0);
}

TEST_CASE("oneshot misuse fails loudly", "[oneshot][misuse]") {
  auto [tx, rx] = weft::oneshot<int>();
  REQUIRE(tx.send(1).ok());
  CHECK_THROWS_AS(tx.send(2), std::logic_error);
  CHECK(*rx.try_recv() == 1);
  CHECK_THROWS_AS(rx.try_recv(), std::logic_error);  // received twice
  weft::OneshotReceiver<int> empty;
  CHECK_THROWS_AS(empty.try_recv(), std::logic_error);
}
