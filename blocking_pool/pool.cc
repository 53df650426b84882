#include "blocking_pool/pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>

#include "base/deadline.h"
#include "blocking_pool/pool_shared_internal.h"

namespace weft {
namespace detail {
namespace {

// The limit when WEFT_BLOCKING_MAX_THREADS is unset: smol's and Go's order
// of magnitude. Blocking jobs mostly wait (disk, DNS, locks in C libraries),
// so the limit bounds memory and the damage of a runaway producer, not CPU
// use; 500 threads reserve 4 GiB of address space for stacks but touch only
// tens of KiB each.
constexpr size_t kDefaultMaxThreads = 500;
// Values of WEFT_BLOCKING_MAX_THREADS above this are refused as typos.
constexpr size_t kMaxThreadsCap = 100'000;
// How long a thread waits for work before it exits. Starting a thread costs
// 7-60 us here; an idle thread costs one timed wait and an untouched stack.
// Half a second keeps the threads of any workload whose bursts come faster
// than 2 Hz (so a steady stream of file reads never pays for a thread
// start: at most 60 us per 500 ms, 0.012 %), and still hands a burst's threads
// back to the OS within a moment a person would call "right away". smol
// uses the same value; tokio's 10 s keeps memory for longer for no
// measurable gain.
constexpr std::chrono::milliseconds kDefaultIdleTimeout{500};

// Reads WEFT_BLOCKING_MAX_THREADS for the global pool.
size_t max_threads_from_env() {
  const char* env = std::getenv("WEFT_BLOCKING_MAX_THREADS");
  if (!env || !*env) return kDefaultMaxThreads;
  char* end = nullptr;
  unsigned long long n = std::strtoull(env, &end, 10);
  if (end == env || *end != '\0' || n < 1 || n > kMaxThreadsCap) {
    std::fprintf(stderr,
                 "weft: ignoring WEFT_BLOCKING_MAX_THREADS=\"%s\" (want 1..%zu); using %zu\n", env,
                 kMaxThreadsCap, kDefaultMaxThreads);
    return kDefaultMaxThreads;
  }
  return static_cast<size_t>(n);
}

}  // namespace
}  // namespace detail

BlockingPool::BlockingPool(BlockingPoolOptions options)
    : shared_(std::make_shared<detail::PoolShared>(options)) {}

BlockingPool::~BlockingPool() {
  detail::PoolShared& p = *shared_;
  std::unique_lock<std::mutex> lock(p.mu);
  p.shutdown = true;
  ++p.stats_waiters;
  p.work_cv.notify_all();
  p.monitor_cv.notify_all();
  // Threads drain the queue before they look at `shutdown`.
  p.stats_cv.wait(lock, [&] { return p.alive == 0 && !p.monitor_alive; });
  // Jobs left only if no thread could ever be started: run them here.
  while (detail::JobBase* job = p.pop()) {
    lock.unlock();
    job->run();
    lock.lock();
    ++p.jobs_run;
  }
  --p.stats_waiters;
}

BlockingPool& BlockingPool::global() {
  // Leaked on purpose (see the policy in pool.h): detached threads use it
  // until the process exits, and no exit-time destructor may free it.
  static BlockingPool* pool = new BlockingPool(BlockingPoolOptions{
      .max_threads = detail::max_threads_from_env(),
      .idle_timeout = detail::kDefaultIdleTimeout,
  });
  return *pool;
}

void BlockingPool::submit(detail::JobBase* job) {
  detail::PoolShared& p = *shared_;
  job->queued_at_ns = detail::steady_now_ns();  // before the lock: keeps it short
  std::unique_lock<std::mutex> lock(p.mu, std::defer_lock);
  detail::lock_briefly_spinning(lock);
  p.push(job);
  if (p.queued <= p.searching + p.wakeups_pending) {
    p.stats_changed();
    return;  // a thread already awake (or being woken) will take it
  }
  if (p.waiting > p.wakeups_pending) {
    ++p.wakeups_pending;
    p.stats_changed();
    lock.unlock();
    p.work_cv.notify_one();  // after unlocking: the woken thread needs the lock
    return;
  }
  if (p.alive >= p.limit) {
    p.stats_changed();
    return;  // at the limit: the job waits its turn
  }
  if (p.alive < p.eager_threads) {
    detail::start_worker(p, lock);
    return;
  }
  // Every thread is busy and the eager ones are all started: the monitor
  // starts one more if the busy ones turn out to be blocked.
  if (p.monitor_idle) {
    p.monitor_idle = false;
    lock.unlock();
    p.monitor_cv.notify_one();
    return;
  }
  if (!p.monitor_alive) {
    p.monitor_alive = true;
    detail::start_monitor(p, lock);
  }
}

void BlockingPool::set_max_threads(size_t n) {
  detail::PoolShared& p = *shared_;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.limit = std::max<size_t>(1, n);
    p.stats_changed();
  }
  p.work_cv.notify_all();  // idle threads above the new limit exit now
  p.monitor_cv.notify_all();
}

void BlockingPool::set_idle_timeout(std::chrono::milliseconds timeout) {
  detail::PoolShared& p = *shared_;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.idle_timeout = timeout;
  }
  p.work_cv.notify_all();  // waiting threads recompute their deadline
  p.monitor_cv.notify_all();
}

BlockingPool::Stats BlockingPool::stats() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->snapshot();
}

BlockingPoolMetrics BlockingPool::metrics() const {
  const int64_t now = detail::steady_now_ns();
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->metrics(now);
}

bool BlockingPool::wait_until(const std::function<bool(const Stats&)>& done,
                              std::chrono::milliseconds timeout) const {
  detail::PoolShared& p = *shared_;
  std::unique_lock<std::mutex> lock(p.mu);
  ++p.stats_waiters;
  // wait_until a saturated deadline: wait_for would add `timeout` to now
  // unchecked (overflow for milliseconds::max()).
  bool ok = p.stats_cv.wait_until(lock, detail::real_deadline_after(timeout),
                                  [&] { return done(p.snapshot()); });
  --p.stats_waiters;
  return ok;
}

}  // namespace weft
