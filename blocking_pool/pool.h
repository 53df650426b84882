// BlockingPool: threads for work that blocks (disk files, blocking C APIs,
// DNS, heavy computation) so that executor workers never do.
//
// What it is for: an executor worker that blocks in read(2) on a slow disk,
// in getaddrinfo or in a long computation stalls every task queued behind it.
// Such work goes to this pool instead (`unblock(f)`, the fs:: functions,
// `Unblock<T>`), and the task awaits the result without holding a worker.
//
// Policy (the numbers are named constants in pool.cc, each with its reason):
// - Threads are started on demand. When a job is queued and no thread is
//   idle, one more starts at once, up to the eager count (one per CPU, at
//   least 2): enough to keep the cores busy with short jobs. Past that, a monitor thread (`weft-blocking-m`) watches
//   the queue: if jobs wait and none has started for kBlockedAfter
//   (100 us), the running jobs are presumed blocked, not merely busy, and
//   it starts one more thread; again every 100 us while that holds. So a
//   burst of 100,000 short jobs runs on a handful of threads (with
//   immediate growth it started ~500), and jobs that block get a new thread
//   within about a tenth of a millisecond. A pool never used starts none.
// - The limit is `WEFT_BLOCKING_MAX_THREADS` for the global pool (default
//   500, as smol), or BlockingPoolOptions::max_threads; set_max_threads()
//   changes it at run time. Above the limit jobs wait in the FIFO queue.
//   Blocking work is mostly waiting, not computing, so the limit is far
//   above the number of cores: it bounds memory (a thread's stack) and
//   protects the OS from a runaway producer, not the CPU.
// - A thread that has had nothing to do for the idle timeout exits
//   (kDefaultIdleTimeout = 500 ms; see pool.cc for why), so a burst's
//   threads go away once it is over, and a steady load keeps its threads.
// - If the OS refuses a new thread (EAGAIN: out of memory or thread quota),
//   the limit is lowered to the number of threads alive, a warning is
//   printed once, and the pool keeps serving with what it has. With no
//   thread at all the job runs on the calling thread, which blocks it but
//   never loses the job.
// - Threads are named `weft-blocking-N`, N the lowest index not in use (so a
//   debugger or `top -H` shows how many there are). Linux allows 15
//   characters, so from N = 10 the name is shortened from the prefix's end:
//   `weft-blocking10`, `weft-blockin100`.
// - Pool threads block SIGPIPE: a job that writes to a pipe with no reader
//   gets EPIPE back instead of the signal killing the process.
// - The global pool is created on first use and never destroyed: its threads
//   are detached and sleep on state that is never freed, so the process can
//   exit (return from main, exit()) with idle pool threads around, and no
//   static destructor can pull state from under a thread still running a job.
//
// Requires: do not destroy a pool you constructed from one of its own jobs,
// nor while one of its jobs blocks forever: the destructor waits for them.
// (Jobs keep their own state alive, so handles may outlive the pool.)
//
// Guarantees: jobs start in FIFO order; every submitted job runs (or, if its
// handle was dropped before it started, is skipped) exactly once.
//
// Memory ordering: the queue and every counter are guarded by one
// std::mutex (not absl::Mutex: Debian's abseil is not built with TSan, which
// would then not see the hand-offs). Handing a job to a thread goes through
// that lock; its result comes back through the job's own atomics (job.h).
//
// Example:
//   weft::BlockingPool pool({.max_threads = 4});
//   int v = co_await pool.spawn([] { return blocking_call(); });
//   weft::BlockingPool::Stats s = pool.stats();   // threads_alive, peak, ...
//   weft::BlockingPoolMetrics m = weft::BlockingPool::global().metrics();
#ifndef WEFT_BLOCKING_POOL_POOL_H_
#define WEFT_BLOCKING_POOL_POOL_H_

#include <pthread.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "blocking_pool/blocking_job.h"
#include "blocking_pool/job.h"
#include "blocking_pool/pool_metrics.h"

namespace weft {

namespace detail {
struct PoolShared;
}  // namespace detail

// How the pool starts a thread; pthread_create's signature. Tests replace it
// to make thread creation fail.
using ThreadCreateFn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

struct BlockingPoolOptions {
  // At most this many threads at once (at least 1).
  size_t max_threads = 500;
  // An idle thread exits after this long without work.
  std::chrono::milliseconds idle_timeout{500};
  // Threads started at once when a job finds none idle; 0: one per CPU, at
  // least 2. Past these, threads are added only while the busy ones appear
  // blocked (see the policy above).
  size_t eager_threads = 0;
  // Null: pthread_create.
  ThreadCreateFn create_thread = nullptr;
};

class BlockingPool {
 public:
  struct Stats {
    size_t threads_alive = 0;  // started and not yet exited
    size_t threads_idle = 0;   // alive and not running a job
    size_t threads_peak = 0;   // most threads alive at once, ever
    size_t max_threads = 0;    // the current limit
    size_t jobs_queued = 0;    // submitted, not yet started
    uint64_t jobs_run = 0;     // finished (or skipped as cancelled)
    uint64_t threads_started = 0;  // ever
  };

  explicit BlockingPool(BlockingPoolOptions options = {});
  // Waits until every queued and running job has finished and every thread
  // has exited.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // The process-wide pool behind weft::unblock and fs::. Created on first
  // use with the limit from WEFT_BLOCKING_MAX_THREADS; never destroyed.
  static BlockingPool& global();

  // Starts `f()` on a pool thread; the handle awaits its result. `f` may be
  // move-only; it is moved into the job and destroyed on the pool thread
  // right after it runs.
  template <class F>
  BlockingJob<detail::JobValue<F>> spawn(F&& f) {
    auto* job = new detail::Job<std::decay_t<F>>(std::forward<F>(f));
    submit(job);
    return BlockingJob<detail::JobValue<F>>(job);
  }

  // Changes the limit (at least 1). Threads above a lowered limit exit when
  // they finish their current job.
  void set_max_threads(size_t n);
  // Changes the idle timeout; waiting threads pick it up at once.
  void set_idle_timeout(std::chrono::milliseconds timeout);

  Stats stats() const;
  // Threads, jobs and the queue (pool_metrics.h); any thread, any time.
  // Stats above is the older, test-oriented view of the same counts.
  BlockingPoolMetrics metrics() const;
  // Waits until `done(stats())` holds or `timeout` passed; returns whether it
  // holds. For tests and diagnostics: no sleeping, the pool signals every
  // change of its counters while someone waits here.
  bool wait_until(const std::function<bool(const Stats&)>& done,
                  std::chrono::milliseconds timeout) const;

 private:
  void submit(detail::JobBase* job);

  std::shared_ptr<detail::PoolShared> shared_;
};

}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_POOL_H_
