#include "blocking_pool/pool.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"

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
// ~30 µs here; an idle thread costs one timed wait and an untouched stack.
// Half a second keeps the threads of any workload whose bursts come faster
// than 2 Hz (so a steady stream of file reads never pays for a thread
// start: 30 µs per 500 ms is 0.006 %), and still hands a burst's threads
// back to the OS within a moment a person would call "right away". smol
// uses the same value; tokio's 10 s keeps memory for longer for no
// measurable gain.
constexpr std::chrono::milliseconds kDefaultIdleTimeout{500};
// Linux thread names hold 15 characters.
constexpr size_t kThreadNameMax = 15;

}  // namespace

struct PoolShared {
  explicit PoolShared(const BlockingPoolOptions& o)
      : limit(std::max<size_t>(1, o.max_threads)),
        idle_timeout(o.idle_timeout),
        create_thread(o.create_thread ? o.create_thread : &pthread_create) {}

  mutable std::mutex mu;
  // Idle threads wait here for a job (or shutdown, or a timeout change).
  std::condition_variable work_cv;
  // Signalled on every counter change while stats_waiters > 0.
  mutable std::condition_variable stats_cv;

  // The FIFO queue of jobs not yet started, linked through JobBase::next.
  JobBase* head ABSL_GUARDED_BY(mu) = nullptr;
  JobBase* tail ABSL_GUARDED_BY(mu) = nullptr;
  size_t queued ABSL_GUARDED_BY(mu) = 0;

  // Every alive thread is in exactly one of three states:
  //   waiting    blocked on work_cv (it may time out and exit);
  //   searching  awake and about to look at the queue: just started, just
  //              woken, or just finished a job (counted before it publishes
  //              the job's result, so a task woken by that result which
  //              submits its next job finds this thread coming back for it,
  //              and neither wakes nor starts another);
  //   running    inside a job.
  size_t alive ABSL_GUARDED_BY(mu) = 0;
  size_t waiting ABSL_GUARDED_BY(mu) = 0;
  size_t searching ABSL_GUARDED_BY(mu) = 0;
  // notify_one() calls made for queued jobs whose waiter has not yet woken.
  // Any thread leaving `waiting` consumes one, so a job is never left with
  // a wake-up promised and no thread coming.
  size_t wakeups_pending ABSL_GUARDED_BY(mu) = 0;
  size_t peak ABSL_GUARDED_BY(mu) = 0;
  size_t limit ABSL_GUARDED_BY(mu);
  uint64_t jobs_run ABSL_GUARDED_BY(mu) = 0;
  uint64_t started ABSL_GUARDED_BY(mu) = 0;
  std::chrono::milliseconds idle_timeout ABSL_GUARDED_BY(mu);
  bool shutdown ABSL_GUARDED_BY(mu) = false;
  bool warned_create_failure ABSL_GUARDED_BY(mu) = false;
  mutable size_t stats_waiters ABSL_GUARDED_BY(mu) = 0;
  // Which name indices (weft-blocking-N) alive threads use.
  std::vector<bool> name_in_use ABSL_GUARDED_BY(mu);

  const ThreadCreateFn create_thread;

  void push(JobBase* job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    job->next = nullptr;
    if (tail) {
      tail->next = job;
    } else {
      head = job;
    }
    tail = job;
    ++queued;
  }

  JobBase* pop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    JobBase* job = head;
    if (job) {
      head = job->next;
      if (!head) tail = nullptr;
      --queued;
    }
    return job;
  }

  size_t take_name() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = std::find(name_in_use.begin(), name_in_use.end(), false);
    size_t i = static_cast<size_t>(it - name_in_use.begin());
    if (it == name_in_use.end()) {
      name_in_use.push_back(true);
    } else {
      *it = true;
    }
    return i;
  }

  void stats_changed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (stats_waiters) stats_cv.notify_all();
  }

  BlockingPool::Stats snapshot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    BlockingPool::Stats s;
    s.threads_alive = alive;
    s.threads_idle = waiting + searching;
    s.threads_peak = peak;
    s.max_threads = limit;
    s.jobs_queued = queued;
    s.jobs_run = jobs_run;
    s.threads_started = started;
    return s;
  }
};

namespace {

struct ThreadStart {
  std::shared_ptr<PoolShared> pool;
  size_t index;
};

std::string thread_name(size_t index) {
  std::string number = std::to_string(index);
  std::string prefix = "weft-blocking-";
  size_t room = kThreadNameMax > number.size() ? kThreadNameMax - number.size() : 0;
  if (prefix.size() > room) prefix.resize(room);
  return prefix + number;
}

void* thread_main(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  pthread_setname_np(pthread_self(), thread_name(start->index).c_str());
  PoolShared& p = *start->pool;

  std::unique_lock<std::mutex> lock(p.mu);
  // We start as `searching` (the submitter counted us so).
  bool waited = false;  // whether idle_since is set
  std::chrono::steady_clock::time_point idle_since;
  for (;;) {
    if (JobBase* job = p.pop()) {
      --p.searching;
      p.stats_changed();
      lock.unlock();
      job->execute();
      lock.lock();
      ++p.searching;  // before complete(): see PoolShared::searching
      ++p.jobs_run;
      p.stats_changed();
      lock.unlock();
      job->complete();
      lock.lock();
      waited = false;
      continue;
    }
    if (p.shutdown || p.alive > p.limit) break;  // drained / make room
    if (!waited) {
      waited = true;
      idle_since = std::chrono::steady_clock::now();
    }
    // Recomputed on every wake, so set_idle_timeout() reaches threads that
    // are already waiting.
    auto deadline = idle_since + p.idle_timeout;
    if (std::chrono::steady_clock::now() >= deadline) break;  // idle too long
    --p.searching;
    ++p.waiting;
    p.stats_changed();
    p.work_cv.wait_until(lock, deadline);
    --p.waiting;
    ++p.searching;
    if (p.wakeups_pending) --p.wakeups_pending;
    p.stats_changed();
  }
  --p.searching;
  --p.alive;
  p.name_in_use[start->index] = false;
  p.stats_changed();
  lock.unlock();
  // `start` (our share of the pool state) goes last, so the state outlives
  // the lock we just released even if the pool was destroyed meanwhile.
  return nullptr;
}

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
  // Threads drain the queue before they look at `shutdown`.
  p.stats_cv.wait(lock, [&] { return p.alive == 0; });
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
  std::unique_lock<std::mutex> lock(p.mu);
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
  // More jobs wait than threads are idle: start one more.
  ++p.alive;
  ++p.searching;
  ++p.started;
  p.peak = std::max(p.peak, p.alive);
  size_t index = p.take_name();
  p.stats_changed();
  lock.unlock();

  auto* start = new detail::ThreadStart{shared_, index};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int err = p.create_thread(&thread, &attr, &detail::thread_main, start);
  pthread_attr_destroy(&attr);
  if (err == 0) return;

  // The OS refused: serve with the threads we have (see pool.h).
  delete start;
  lock.lock();
  --p.alive;
  --p.searching;
  --p.started;
  p.name_in_use[index] = false;
  p.limit = std::max<size_t>(1, p.alive);
  if (!p.warned_create_failure) {
    p.warned_create_failure = true;
    std::fprintf(stderr,
                 "weft: the blocking pool could not start a thread (%s); its limit is now %zu\n",
                 std::strerror(err), p.limit);
  }
  p.stats_changed();
  // With no thread at all, nobody else would run the queue: run it here.
  while (p.alive == 0) {
    detail::JobBase* next = p.pop();
    if (!next) break;
    lock.unlock();
    next->run();
    lock.lock();
    ++p.jobs_run;
    p.stats_changed();
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
}

void BlockingPool::set_idle_timeout(std::chrono::milliseconds timeout) {
  detail::PoolShared& p = *shared_;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.idle_timeout = timeout;
  }
  p.work_cv.notify_all();  // waiting threads recompute their deadline
}

BlockingPool::Stats BlockingPool::stats() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->snapshot();
}

bool BlockingPool::wait_until(const std::function<bool(const Stats&)>& done,
                              std::chrono::milliseconds timeout) const {
  detail::PoolShared& p = *shared_;
  std::unique_lock<std::mutex> lock(p.mu);
  ++p.stats_waiters;
  bool ok = p.stats_cv.wait_for(lock, timeout, [&] { return done(p.snapshot()); });
  --p.stats_waiters;
  return ok;
}

}  // namespace weft
