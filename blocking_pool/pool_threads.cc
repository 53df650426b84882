// The blocking pool's threads: workers, which run the queued jobs, and the
// monitor, which starts one more worker when every running job seems
// blocked. The accounting they keep is in pool_shared_internal.h.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "base/deadline.h"
#include "blocking_pool/pool_shared_internal.h"

namespace weft {
namespace detail {
namespace {

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
// Linux thread names hold 15 characters.
constexpr size_t kThreadNameMax = 15;

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
  ++p.exited;
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

}  // namespace

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

void start_monitor(PoolShared& p, std::unique_lock<std::mutex>& lock) {
  int err = create_thread(p, lock, &monitor_main, kMonitorIndex);
  if (err != 0) {
    p.monitor_alive = false;
    p.limit = std::max<size_t>(1, p.alive);
    warn_create_failure(p, err);
    p.stats_changed();
  }
}

}  // namespace detail
}  // namespace weft
