// Semaphore: permits, FIFO service of mixed-size requests, cancellation
// while queued and after a grant, and a stress that would catch an
// over-admission.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <vector>

#include "sync_test_util.h"
#include "weft.h"

using weft_test::drain;
using weft_test::FrameToken;

namespace {

weft::Task<void> take(weft::Semaphore& s, size_t n, std::vector<size_t>& order,
                      std::vector<weft::SemaphoreGuard>& keep) {
  weft::SemaphoreGuard g = co_await s.acquire(n);
  CHECK(g.permits() == n);
  order.push_back(n);
  keep.push_back(std::move(g));
}

}  // namespace

TEST_CASE("acquire, try_acquire and guards count permits", "[semaphore]") {
  weft::Semaphore s(3);
  weft::block_on([](weft::Semaphore& s) -> weft::Task<void> {
    weft::SemaphoreGuard a = co_await s.acquire(2);
    CHECK(s.available() == 1);
    CHECK_FALSE(s.try_acquire(2).has_value());
    std::optional<weft::SemaphoreGuard> b = s.try_acquire(1);
    CHECK(b.has_value());
    CHECK(s.available() == 0);
    a.release();
    CHECK(s.available() == 2);
    weft::SemaphoreGuard zero = co_await s.acquire(0);  // never waits
    CHECK(zero.permits() == 0);
  }(s));
  CHECK(s.available() == 3);
}

TEST_CASE("a large request at the front is not overtaken by smaller ones", "[semaphore]") {
  weft::Semaphore s(0);
  weft::LocalExecutor ex;
  std::vector<size_t> order;
  std::vector<weft::SemaphoreGuard> keep;
  auto big = ex.spawn(take(s, 3, order, keep));
  auto small = ex.spawn(take(s, 1, order, keep));
  drain(ex);
  s.add_permits(2);  // enough for the small one, not for the big one in front
  drain(ex);
  CHECK(order.empty());
  CHECK_FALSE(s.try_acquire(1).has_value());  // nor for a newcomer
  s.add_permits(2);
  drain(ex);
  CHECK(order == std::vector<size_t>{3, 1});
  CHECK(s.available() == 0);
}

TEST_CASE("cancelling the front waiter lets the ones behind it go", "[semaphore][cancel]") {
  weft::Semaphore s(1);
  weft::LocalExecutor ex;
  std::vector<size_t> order;
  std::vector<weft::SemaphoreGuard> keep;
  auto big = ex.spawn(take(s, 5, order, keep));
  auto small = ex.spawn(take(s, 1, order, keep));
  drain(ex);
  CHECK(order.empty());
  { auto dropped = std::move(big); }
  drain(ex);
  CHECK(order == std::vector<size_t>{1});
}

TEST_CASE("permits granted to a task cancelled before it resumed come back",
          "[semaphore][cancel]") {
  weft::Semaphore s(0);
  weft::LocalExecutor ex;
  std::vector<size_t> order;
  std::vector<weft::SemaphoreGuard> keep;
  auto first = ex.spawn(take(s, 2, order, keep));
  auto second = ex.spawn(take(s, 2, order, keep));
  drain(ex);
  s.add_permits(2);                     // granted to `first`, now scheduled
  { auto dropped = std::move(first); }  // cancelled before it resumed
  drain(ex);
  CHECK(order == std::vector<size_t>{2});  // `second` got them
  keep.clear();
  CHECK(s.available() == 2);
}

TEST_CASE("forget() keeps permits out for good", "[semaphore]") {
  weft::Semaphore s(2);
  std::optional<weft::SemaphoreGuard> g = s.try_acquire(1);
  g->forget();
  g.reset();
  CHECK(s.available() == 1);
}

namespace {

struct Pool {
  explicit Pool(size_t permits) : sem(permits), limit(permits) {}
  weft::Semaphore sem;
  const size_t limit;
  std::atomic<size_t> in_use{0};
  std::atomic<size_t> peak{0};
};

// Counts n permits as in use while it lives: in_use may never exceed the
// limit. Declared after the SemaphoreGuard, so that a task cancelled while
// holding permits stops counting them before it gives them back.
class InUse {
 public:
  InUse(Pool& p, size_t n) : p_(p), n_(n) {
    // acq_rel: pairs with the release in the destructor, so counts are current.
    size_t now = p.in_use.fetch_add(n, std::memory_order_acq_rel) + n;
    if (now > p.limit) throw std::runtime_error("over-admitted");
    size_t peak = p.peak.load(std::memory_order_relaxed);
    while (now > peak && !p.peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  InUse(const InUse&) = delete;
  ~InUse() { p_.in_use.fetch_sub(n_, std::memory_order_release); }

 private:
  Pool& p_;
  size_t n_;
};

weft::Task<void> user(Pool& p, int rounds, uint32_t seed) {
  std::minstd_rand rng(seed);
  for (int i = 0; i < rounds; ++i) {
    size_t n = 1 + rng() % p.limit;
    weft::SemaphoreGuard g = co_await p.sem.acquire(n);
    InUse counted(p, n);
    if (i % 4 == 0) co_await weft::yield_now();
  }
}

weft::Task<void> cancellable_user(Pool& p, size_t n, FrameToken) {
  weft::SemaphoreGuard g = co_await p.sem.acquire(n);
  InUse counted(p, n);
  co_await weft::yield_now();  // may be cancelled here, holding permits
}

}  // namespace

TEST_CASE("Semaphore stress: never over-admits, even with cancellations",
          "[semaphore][stress]") {
  constexpr size_t kPermits = 3;
  constexpr int kTasks = 6;
  constexpr int kRounds = 5'000;
  constexpr int kCancellable = 3'000;
  Pool p(kPermits);
  weft::Executor ex;
  std::atomic<int> live{0};
  std::thread canceller([&] {
    std::mt19937 rng(11);
    for (int i = 0; i < kCancellable; ++i) {
      auto h = ex.spawn(cancellable_user(p, 1 + rng() % kPermits, FrameToken(&live)));
      weft_test::spin(rng() % 20'000);
    }
  });
  weft_test::run_on_two_workers(ex, [](weft::Executor& ex, Pool& p) -> weft::Task<void> {
    std::vector<weft::JoinHandle<void>> hs;
    for (int i = 0; i < kTasks; ++i) hs.push_back(ex.spawn(user(p, kRounds, 1 + i)));
    for (auto& h : hs) co_await h;
  }(ex, p));
  canceller.join();
  ex.run([](std::atomic<int>& live) -> weft::Task<void> {
    while (live.load(std::memory_order_acquire) != 0) co_await weft::yield_now();
  }(live));
  CHECK(p.peak.load() <= kPermits);
  CHECK(p.peak.load() >= 2);  // there was contention to speak of
  CHECK(p.in_use.load() == 0);
  CHECK(p.sem.available() == kPermits);  // every permit came back
}
