#include "blocking_pool/pool.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/deadline.h"

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
// Threads started the moment a job finds no idle thread: one per CPU (at
// least 2), enough to keep every core busy with short jobs. Past this many,
// the monitor decides (kBlockedAfter). Measured on 2 cores with 100,000
// tiny jobs: 1 or 2 eager threads ran them at ~340 ns per job, 4 at ~980 ns
// (more threads than cores only add futex wake-ups between them).
size_t default_eager_threads() {
  return std::max<size_t>(2, static_cast<size_t>(std::thread::hardware_concurrency()));
}
// Past the eager threads, a job that finds every thread busy gets a new one
// only when no job has started for this long: the running jobs are then
// presumed blocked (not merely busy). Starting a thread costs 7-60 us here,
// so waiting ~2-10 starts' worth before growing keeps a burst of short CPU
// jobs on a few threads (measured: 100,000 tiny jobs had started 494
// threads with immediate growth) while blocked jobs get a thread within a
// tenth of a millisecond, and a pool whose every thread blocks grows by up
// to 10,000 threads a second.
constexpr std::chrono::microseconds kBlockedAfter{100};
// How long a thread that ran out of jobs keeps looking before it sleeps
// (one thread at a time). A task woken by a job's result typically submits
// its next job within a few microseconds; catching it awake saves a futex
// wake-up (~7.5 us on these machines, BENCH.md) on the submitter and one on
// this thread, per round trip and per job of a burst whose submitter is
// slower than the pool. 20 us is under three such wake-ups, and is spent
// at most once per idle period.
constexpr std::chrono::microseconds kSpinFor{20};
// try_lock attempts before a thread sleeps on the pool's mutex (see
// lock_briefly_spinning): ~100 pauses, about a microsecond, a few times a
// critical section's length.
constexpr int kLockSpins = 100;
// Linux thread names hold 15 characters.
constexpr size_t kThreadNameMax = 15;

}  // namespace

// Locks `lock`'s mutex, first trying for a short while without sleeping.
// The pool's critical sections are a few dozen instructions, so a thread
// that finds the lock taken almost always gets it within a microsecond;
// sleeping on the futex instead makes the unlocker pay a wake-up system
// call (profiled: most of the cost of a burst of short jobs).
inline void lock_briefly_spinning(std::unique_lock<std::mutex>& lock) {
  for (int i = 0; i < kLockSpins; ++i) {
    if (lock.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  lock.lock();
}

struct PoolShared : std::enable_shared_from_this<PoolShared> {
  explicit PoolShared(const BlockingPoolOptions& o)
      : limit(std::max<size_t>(1, o.max_threads)),
        idle_timeout(o.idle_timeout),
        eager_threads(o.eager_threads ? o.eager_threads : default_eager_threads()),
        create_thread(o.create_thread ? o.create_thread : &pthread_create) {}

  mutable std::mutex mu;
  // Idle threads wait here for a job (or shutdown, or a timeout change).
  std::condition_variable work_cv;
  // Signalled on every counter change while stats_waiters > 0.
  mutable std::condition_variable stats_cv;
  // The monitor sleeps here while no job waits for a thread.
  std::condition_variable monitor_cv;

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
  // Jobs taken off the queue, ever: the monitor's measure of progress.
  uint64_t jobs_started ABSL_GUARDED_BY(mu) = 0;
  // The monitor thread (see kBlockedAfter): started on first need, exits
  // after the idle timeout like the others.
  bool monitor_alive ABSL_GUARDED_BY(mu) = false;
  bool monitor_idle ABSL_GUARDED_BY(mu) = false;  // asleep on monitor_cv
  // Whether a thread spins for work (spin_for_job); at most one does.
  bool spinning ABSL_GUARDED_BY(mu) = false;
  // `queued`, readable without the lock by the spinner. Written under mu.
  std::atomic<size_t> queued_hint{0};
  size_t limit ABSL_GUARDED_BY(mu);
  uint64_t jobs_run ABSL_GUARDED_BY(mu) = 0;
  uint64_t started ABSL_GUARDED_BY(mu) = 0;
  std::chrono::milliseconds idle_timeout ABSL_GUARDED_BY(mu);
  bool shutdown ABSL_GUARDED_BY(mu) = false;
  bool warned_create_failure ABSL_GUARDED_BY(mu) = false;
  mutable size_t stats_waiters ABSL_GUARDED_BY(mu) = 0;
  // Which name indices (weft-blocking-N) alive threads use.
  std::vector<bool> name_in_use ABSL_GUARDED_BY(mu);

  const size_t eager_threads;
  const ThreadCreateFn create_thread;

  // Whether a queued job has no thread coming for it and the limit allows
  // one more.
  bool needs_thread() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return queued > searching + wakeups_pending && waiting <= wakeups_pending && alive < limit;
  }

  void push(JobBase* job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    job->next = nullptr;
    if (tail) {
      tail->next = job;
    } else {
      head = job;
    }
    tail = job;
    ++queued;
    // relaxed: a hint for the spinner, which takes the job under the lock.
    queued_hint.store(queued, std::memory_order_relaxed);
  }

  JobBase* pop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    JobBase* job = head;
    if (job) {
      head = job->next;
      if (!head) tail = nullptr;
      --queued;
      ++jobs_started;
      queued_hint.store(queued, std::memory_order_relaxed);  // as in push()
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

constexpr size_t kMonitorIndex = static_cast<size_t>(-1);

struct ThreadStart {
  std::shared_ptr<PoolShared> pool;
  size_t index;  // weft-blocking-<index>, or kMonitorIndex
};

std::string thread_name(size_t index) {
  if (index == kMonitorIndex) return "weft-blocking-m";
  std::string number = std::to_string(index);
  std::string prefix = "weft-blocking-";
  size_t room = kThreadNameMax > number.size() ? kThreadNameMax - number.size() : 0;
  if (prefix.size() > room) prefix.resize(room);
  return prefix + number;
}

void* worker_main(void* arg);
void* monitor_main(void* arg);

// Starts a thread running `main`. Called with the lock held (it is released
// around pthread_create); returns the error, with the lock held again.
int create_thread(PoolShared& p, std::unique_lock<std::mutex>& lock, void* (*main)(void*),
                  size_t index) {
  auto* start = new ThreadStart{p.shared_from_this(), index};
  lock.unlock();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int err = p.create_thread(&thread, &attr, main, start);
  pthread_attr_destroy(&attr);
  if (err != 0) delete start;
  lock.lock();
  return err;
}

void warn_create_failure(PoolShared& p, int err) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
  if (p.warned_create_failure) return;
  p.warned_create_failure = true;
  std::fprintf(stderr,
               "weft: the blocking pool could not start a thread (%s); its limit is now %zu\n",
               std::strerror(err), p.limit);
}

// Starts one worker for the queue. Lock held on entry and on return.
void start_worker(PoolShared& p, std::unique_lock<std::mutex>& lock)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
  ++p.alive;
  ++p.searching;  // it looks at the queue as soon as it runs
  ++p.started;
  p.peak = std::max(p.peak, p.alive);
  size_t index = p.take_name();
  p.stats_changed();
  int err = create_thread(p, lock, &worker_main, index);
  if (err == 0) return;

  // The OS refused: serve with the threads we have (see pool.h).
  --p.alive;
  --p.searching;
  --p.started;
  p.name_in_use[index] = false;
  p.limit = std::max<size_t>(1, p.alive);
  warn_create_failure(p, err);
  p.stats_changed();
  // With no thread at all, nobody else would run the queue: run it here.
  while (p.alive == 0) {
    JobBase* job = p.pop();
    if (!job) break;
    lock.unlock();
    job->run();
    lock.lock();
    ++p.jobs_run;
    p.stats_changed();
  }
}

// Looks for a job without the lock for up to kSpinFor, as the pool's one
// spinner (counted as searching, so submitters neither wake nor start a
// thread meanwhile). Returns with the lock held.
void spin_for_job(PoolShared& p, std::unique_lock<std::mutex>& lock)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
  p.spinning = true;
  lock.unlock();
  auto until = std::chrono::steady_clock::now() + kSpinFor;
  for (int i = 0;; ++i) {
    // relaxed: a hint; the job itself is taken under the lock.
    if (p.queued_hint.load(std::memory_order_relaxed) != 0) break;
    if ((i & 63) == 63) {
      if (std::chrono::steady_clock::now() >= until) break;
      std::this_thread::yield();  // two cores: let the submitter run
    }
  }
  lock_briefly_spinning(lock);
  p.spinning = false;
}

void* worker_main(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  pthread_setname_np(pthread_self(), thread_name(start->index).c_str());
  // A job writing to a pipe whose reader is gone (Unblock over stdout, a
  // File on a FIFO) gets EPIPE, as a value, instead of SIGPIPE killing the
  // process (DESIGN.md: a peer reset never raises SIGPIPE). The signal is
  // blocked for this thread only; the process's disposition is untouched.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  PoolShared& p = *start->pool;

  std::unique_lock<std::mutex> lock(p.mu);
  // We start as `searching` (start_worker counted us so).
  bool waited = false;  // whether idle_since is set
  bool spun = false;    // whether we spun since the last job
  std::chrono::steady_clock::time_point idle_since;
  JobBase* job = p.pop();
  for (;;) {
    if (job) {
      --p.searching;
      p.stats_changed();
      lock.unlock();
      for (;;) {
        job->execute();
        lock_briefly_spinning(lock);
        ++p.jobs_run;
        // In a burst, take the next job in the same critical section and
        // stay `running`: one lock per job.
        JobBase* next = p.pop();
        if (!next) break;
        p.stats_changed();
        lock.unlock();
        job->complete();
        job = next;
      }
      ++p.searching;  // before complete(): see PoolShared::searching
      p.stats_changed();
      lock.unlock();
      job->complete();
      lock_briefly_spinning(lock);
      waited = false;
      spun = false;
      job = p.pop();
      continue;
    }
    if (p.shutdown || p.alive > p.limit) break;  // drained / make room
    if (!spun && !p.spinning) {
      spun = true;
      spin_for_job(p, lock);
      job = p.pop();
      continue;
    }
    if (!waited) {
      waited = true;
      idle_since = std::chrono::steady_clock::now();
    }
    // Recomputed on every wake, so set_idle_timeout() reaches threads that
    // are already waiting.
    // Saturating: set_idle_timeout(milliseconds::max()) means "never".
    auto deadline = detail::saturating_add(idle_since, p.idle_timeout);
    if (std::chrono::steady_clock::now() >= deadline) break;  // idle too long
    --p.searching;
    ++p.waiting;
    p.stats_changed();
    p.work_cv.wait_until(lock, deadline);
    --p.waiting;
    ++p.searching;
    if (p.wakeups_pending) --p.wakeups_pending;
    p.stats_changed();
    job = p.pop();
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

// The monitor: while jobs wait with no thread coming for them, it checks
// every kBlockedAfter whether any job started meanwhile; if none did, every
// thread is presumed blocked and it starts one more.
void* monitor_main(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  pthread_setname_np(pthread_self(), thread_name(start->index).c_str());
  PoolShared& p = *start->pool;

  std::unique_lock<std::mutex> lock(p.mu);
  bool waited = false;
  std::chrono::steady_clock::time_point idle_since;
  while (!p.shutdown) {
    if (!p.needs_thread()) {
      if (!waited) {
        waited = true;
        idle_since = std::chrono::steady_clock::now();
      }
      // Saturating: as in worker_main.
      auto deadline = detail::saturating_add(idle_since, p.idle_timeout);
      if (std::chrono::steady_clock::now() >= deadline) break;
      p.monitor_idle = true;
      p.monitor_cv.wait_until(lock, deadline);
      p.monitor_idle = false;
      continue;
    }
    waited = false;
    uint64_t seen = p.jobs_started;
    p.monitor_cv.wait_for(lock, kBlockedAfter);
    if (!p.shutdown && p.needs_thread() && p.jobs_started == seen) start_worker(p, lock);
  }
  p.monitor_alive = false;
  p.stats_changed();
  lock.unlock();
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
    int err = detail::create_thread(p, lock, &detail::monitor_main, detail::kMonitorIndex);
    if (err != 0) {
      p.monitor_alive = false;
      p.limit = std::max<size_t>(1, p.alive);
      detail::warn_create_failure(p, err);
      p.stats_changed();
    }
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

bool BlockingPool::wait_until(const std::function<bool(const Stats&)>& done,
                              std::chrono::milliseconds timeout) const {
  detail::PoolShared& p = *shared_;
  std::unique_lock<std::mutex> lock(p.mu);
  ++p.stats_waiters;
  // wait_until a saturated deadline: wait_for would add `timeout` to now
  // unchecked (overflow for milliseconds::max()).
  bool ok = p.stats_cv.wait_until(lock, detail::deadline_after(timeout),
                                  [&] { return done(p.snapshot()); });
  --p.stats_waiters;
  return ok;
}

}  // namespace weft
