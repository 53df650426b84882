// stop_requested / cancel_on_stop: waking on request_stop() from another
// thread, a token already stopped, cancelling a task, and a cancelled
// waiter deregistering its callback.
#include <catch2/catch.hpp>

#include <atomic>
#include <stop_token>
#include <thread>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::Counted;
using weft_test::drain;
using weft_test::Gate;

namespace {

weft::Task<int> blocked(Gate& g, std::atomic<int>* live, std::atomic<int>* destroyed) {
  Counted c(live, destroyed);
  co_await g;
  co_return 1;
}

}  // namespace

TEST_CASE("stop_requested completes when another thread requests stop", "[stop]") {
  std::stop_source source;
  std::atomic<bool> about_to_wait{false};
  std::thread stopper([&] {
    // acquire: pairs with the task's release store.
    while (!about_to_wait.load(std::memory_order_acquire)) std::this_thread::yield();
    source.request_stop();
  });
  bool stopped = weft::block_on([](std::stop_token t, std::atomic<bool>& about_to_wait)
                                    -> weft::Task<bool> {
    about_to_wait.store(true, std::memory_order_release);
    co_await weft::stop_requested(t);
    co_return t.stop_requested();
  }(source.get_token(), about_to_wait));
  stopper.join();
  CHECK(stopped);
}

TEST_CASE("stop_requested on a stopped token completes at once", "[stop]") {
  std::stop_source source;
  source.request_stop();
  weft::block_on([](std::stop_token t) -> weft::Task<void> { co_await weft::stop_requested(t); }(
      source.get_token()));
  SUCCEED();
}

TEST_CASE("cancel_on_stop returns the result, or cancels the task", "[stop][cancel]") {
  std::atomic<int> live{0}, destroyed{0};
  Gate never;
  weft::LocalExecutor ex;
  std::stop_source source;

  auto finished = ex.run([](std::stop_token t) -> weft::Task<std::optional<int>> {
    co_return co_await weft::cancel_on_stop(t, []() -> weft::Task<int> { co_return 3; }());
  }(source.get_token()));
  CHECK(finished == std::optional<int>(3));

  auto h = ex.spawn([](std::stop_token t, Gate& never, std::atomic<int>& live,
                       std::atomic<int>& destroyed) -> weft::Task<std::optional<int>> {
    co_return co_await weft::cancel_on_stop(t, blocked(never, &live, &destroyed));
  }(source.get_token(), never, live, destroyed));
  drain(ex);
  CHECK(live.load() == 1);
  source.request_stop();
  drain(ex);
  CHECK(live.load() == 0);
  CHECK(destroyed.load() == 1);
  CHECK(ex.run([](weft::JoinHandle<std::optional<int>>& h) -> weft::Task<std::optional<int>> {
          co_return co_await h;
        }(h)) == std::nullopt);
}

TEST_CASE("a task cancelled while it waits for stop deregisters its callback", "[stop][cancel]") {
  std::stop_source source;
  weft::LocalExecutor ex;
  {
    auto h = ex.spawn([](std::stop_token t) -> weft::Task<void> {
      co_await weft::stop_requested(t);
    }(source.get_token()));
    drain(ex);
  }
  drain(ex);  // frame destroyed: the stop_callback went with it
  source.request_stop();  // must not touch the destroyed awaiter (ASan checks)
  drain(ex);
  SUCCEED();
}

TEST_CASE("request_stop racing with the wait is never lost", "[stop][stress]") {
  constexpr int kRounds = 2'000;
  weft::Executor ex;
  for (int i = 0; i < kRounds; ++i) {
    std::stop_source source;
    std::thread stopper([&] { source.request_stop(); });
    ex.run([](std::stop_token t) -> weft::Task<void> { co_await weft::stop_requested(t); }(
        source.get_token()));
    stopper.join();
  }
  SUCCEED();
}
