// PoolShared: the blocking pool's shared state and its accounting. Internal
// to blocking_pool/ (pool.cc: BlockingPool's submit, limits and stats;
// pool_threads.cc: the worker and monitor threads).
//
// One mutex guards everything: the job queue, the thread counts (every
// alive thread is waiting, searching or running; see `alive` below), the
// promised wake-ups and the limits. Submitters and threads change the
// counts under it; needs_thread() reads them to decide whether a queued job
// has a thread coming. The state is shared (std::shared_ptr) between the
// BlockingPool and each thread, so it outlives a pool destroyed while a
// detached thread still leaves.
#ifndef WEFT_BLOCKING_POOL_POOL_SHARED_INTERNAL_H_
#define WEFT_BLOCKING_POOL_POOL_SHARED_INTERNAL_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/intrusive_fifo.h"
#include "blocking_pool/job.h"
#include "blocking_pool/pool.h"

namespace weft {
namespace detail {

// Threads started the moment a job finds no idle thread: one per CPU (at
// least 2), enough to keep every core busy with short jobs. Past this many,
// the monitor decides (kBlockedAfter). Measured on 2 cores with 100,000
// tiny jobs: 1 or 2 eager threads ran them at ~340 ns per job, 4 at ~980 ns
// (more threads than cores only add futex wake-ups between them).
inline size_t default_eager_threads() {
  return std::max<size_t>(2, static_cast<size_t>(std::thread::hardware_concurrency()));
}
// try_lock attempts before a thread sleeps on the pool's mutex (see
// lock_briefly_spinning): ~100 pauses, about a microsecond, a few times a
// critical section's length.
inline constexpr int kLockSpins = 100;

// The steady clock in nanoseconds: a job's queued_at_ns.
inline int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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
  IntrusiveFifo<JobBase, &JobBase::next> jobs ABSL_GUARDED_BY(mu);
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
  uint64_t jobs_submitted ABSL_GUARDED_BY(mu) = 0;
  uint64_t started ABSL_GUARDED_BY(mu) = 0;
  uint64_t exited ABSL_GUARDED_BY(mu) = 0;  // worker threads, ever
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
    jobs.push_back(job);
    ++queued;
    ++jobs_submitted;
    // relaxed: a hint for the spinner, which takes the job under the lock.
    queued_hint.store(queued, std::memory_order_relaxed);
  }

  JobBase* pop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    JobBase* job = jobs.pop_front();
    if (job) {
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

  BlockingPoolMetrics metrics(int64_t now_ns) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    BlockingPoolMetrics m;
    m.threads_live = alive;
    m.threads_idle = waiting + searching;
    m.threads_started = started;
    m.threads_exited = exited;
    m.jobs_submitted = jobs_submitted;
    m.jobs_completed = jobs_run;
    m.queue_depth = queued;
    if (const JobBase* oldest = jobs.front(); oldest && now_ns > oldest->queued_at_ns) {
      m.oldest_queued_wait = std::chrono::nanoseconds(now_ns - oldest->queued_at_ns);
    }
    return m;
  }
};

// The threads (pool_threads.cc). Each is called with `p.mu` held through
// `lock`, and returns with it held again.

// Starts one worker for the queue. If the OS refuses, lowers the limit to
// the threads alive (warning once) and, with none alive, runs the queue on
// the calling thread.
void start_worker(PoolShared& p, std::unique_lock<std::mutex>& lock)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu);
// Starts the monitor (see kBlockedAfter in pool_threads.cc). The caller has
// set `monitor_alive`; if the OS refuses, it is cleared and the limit
// lowered as in start_worker.
void start_monitor(PoolShared& p, std::unique_lock<std::mutex>& lock)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu);

}  // namespace detail
}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_POOL_SHARED_INTERNAL_H_
