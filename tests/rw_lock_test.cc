// RwLock: shared readers, exclusive writers, FIFO service without writer
// starvation, cancellation while queued and after a grant, and a stress.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <string>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::drain;

namespace {

// Takes the lock (read or write), records "r<id>"/"w<id>" and holds it
// until `release` opens (or not at all when null).
template <bool kWrite>
weft::Task<void> hold(weft::RwLock& rw, std::vector<std::string>& log, int id,
                      weft_test::Gate* release) {
  if constexpr (kWrite) {
    weft::WriteGuard g = co_await rw.write();
    log.push_back("w" + std::to_string(id));
    if (release) co_await *release;
  } else {
    weft::ReadGuard g = co_await rw.read();
    log.push_back("r" + std::to_string(id));
    if (release) co_await *release;
  }
}

}  // namespace

TEST_CASE("readers share the lock; a writer excludes everyone", "[rw_lock]") {
  weft::RwLock rw;
  std::optional<weft::ReadGuard> r1 = rw.try_read();
  std::optional<weft::ReadGuard> r2 = rw.try_read();
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK_FALSE(rw.try_write());
  r1.reset();
  CHECK_FALSE(rw.try_write());
  r2.reset();
  std::optional<weft::WriteGuard> w = rw.try_write();
  REQUIRE(w);
  CHECK_FALSE(rw.try_read());
  CHECK_FALSE(rw.try_write());
}

TEST_CASE("the queue is served in order: a writer alone, then readers together",
          "[rw_lock]") {
  weft::RwLock rw;
  weft::LocalExecutor ex;
  std::vector<std::string> log;
  weft_test::Gate w1_release, readers_release;
  std::optional<weft::ReadGuard> held = rw.try_read();
  std::vector<weft::JoinHandle<void>> hs;
  hs.push_back(ex.spawn(hold<true>(rw, log, 1, &w1_release)));
  hs.push_back(ex.spawn(hold<false>(rw, log, 2, &readers_release)));
  hs.push_back(ex.spawn(hold<false>(rw, log, 3, &readers_release)));
  hs.push_back(ex.spawn(hold<true>(rw, log, 4, nullptr)));
  drain(ex);
  CHECK(log.empty());  // the writer waits for the reader; readers queue behind it
  CHECK_FALSE(rw.try_read());  // a new reader may not overtake the writer
  held.reset();
  drain(ex);
  CHECK(log == std::vector<std::string>{"w1"});
  w1_release.open();
  drain(ex);
  CHECK(log == std::vector<std::string>{"w1", "r2", "r3"});  // both at once
  readers_release.open();
  drain(ex);
  CHECK(log == std::vector<std::string>{"w1", "r2", "r3", "w4"});
}

TEST_CASE("cancelling a queued writer lets the readers behind it in", "[rw_lock][cancel]") {
  weft::RwLock rw;
  weft::LocalExecutor ex;
  std::vector<std::string> log;
  std::optional<weft::ReadGuard> held = rw.try_read();
  auto w = ex.spawn(hold<true>(rw, log, 1, nullptr));
  auto r = ex.spawn(hold<false>(rw, log, 2, nullptr));
  drain(ex);
  CHECK(log.empty());
  { auto dropped = std::move(w); }
  drain(ex);
  CHECK(log == std::vector<std::string>{"r2"});  // no longer behind a writer
}

TEST_CASE("a grant given to a task cancelled before it resumed goes to the next",
          "[rw_lock][cancel]") {
  weft::RwLock rw;
  weft::LocalExecutor ex;
  std::vector<std::string> log;
  std::optional<weft::ReadGuard> held = rw.try_read();
  auto w1 = ex.spawn(hold<true>(rw, log, 1, nullptr));
  auto w2 = ex.spawn(hold<true>(rw, log, 2, nullptr));
  drain(ex);
  held.reset();                      // granted to w1, now scheduled
  { auto dropped = std::move(w1); }  // cancelled before it resumed
  drain(ex);
  CHECK(log == std::vector<std::string>{"w2"});
  CHECK(rw.try_write().has_value());
}

namespace {

struct Table {
  weft::RwLock rw;
  std::atomic<int> readers{0};
  std::atomic<int> writers{0};
  int64_t value = 0;  // written under the write lock only
};

weft::Task<int64_t> mixed(Table& t, int n, uint32_t seed) {
  std::minstd_rand rng(seed);
  int64_t seen = 0;
  for (int i = 0; i < n; ++i) {
    if (rng() % 4 == 0) {
      weft::WriteGuard g = co_await t.rw.write();
      // acq_rel / acquire: pair with the release decrements below.
      if (t.writers.fetch_add(1, std::memory_order_acq_rel) != 0 ||
          t.readers.load(std::memory_order_acquire) != 0) {
        throw std::runtime_error("a writer was not alone");
      }
      ++t.value;
      if (i % 16 == 0) co_await weft::yield_now();
      t.writers.fetch_sub(1, std::memory_order_release);
    } else {
      weft::ReadGuard g = co_await t.rw.read();
      t.readers.fetch_add(1, std::memory_order_acq_rel);
      if (t.writers.load(std::memory_order_acquire) != 0) {
        throw std::runtime_error("a reader met a writer");
      }
      seen += t.value;
      if (i % 16 == 0) co_await weft::yield_now();
      t.readers.fetch_sub(1, std::memory_order_release);
    }
  }
  co_return seen;
}

}  // namespace

TEST_CASE("RwLock stress: readers never meet a writer", "[rw_lock][stress]") {
  constexpr int kTasks = 6;
  constexpr int kPerTask = 5'000;
  Table t;
  weft::Executor ex;
  weft_test::run_on_two_workers(ex, [](weft::Executor& ex, Table& t) -> weft::Task<void> {
    std::vector<weft::JoinHandle<int64_t>> hs;
    for (int i = 0; i < kTasks; ++i) hs.push_back(ex.spawn(mixed(t, kPerTask, 100 + i)));
    for (auto& h : hs) (void)co_await h;
  }(ex, t));
  CHECK(t.value > 0);
  CHECK(t.rw.try_write().has_value());
}
