// BlockingPoolMetrics: what a BlockingPool (pool.h) is doing, read from any
// thread while it runs; the blocking pool's half of ExecutorMetrics
// (executor/metrics.h).
//
// What it is for: "is blocking work backing up": how many threads the pool
// runs and how many sit idle, how many it started and retired (a pool that
// keeps starting and retiring threads has an idle timeout too short for its
// load), how many jobs wait, and for how long the first of them has.
//
// Cost: always on, and nearly free: the counts are kept under the mutex
// the pool takes for every job anyway, and submitting a job reads the
// clock once (outside the lock) to stamp it. metrics() takes that mutex.
//
// Guarantees: the totals only grow. The snapshot is taken under the pool's
// lock, so its values agree with each other (threads_live ==
// threads_started - threads_exited; jobs_submitted == jobs_completed +
// queue_depth + jobs running).
#ifndef WEFT_BLOCKING_POOL_POOL_METRICS_H_
#define WEFT_BLOCKING_POOL_POOL_METRICS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace weft {

struct BlockingPoolMetrics {
  // Worker threads (the monitor thread, weft-blocking-m, is not counted).
  size_t threads_live = 0;       // started and not yet exited
  size_t threads_idle = 0;       // of those, not running a job now
  uint64_t threads_started = 0;  // ever
  uint64_t threads_exited = 0;   // ever: idle timeout, a lowered limit, the pool's end
  // Jobs (spawn, unblock, fs::, Unblock<T>).
  uint64_t jobs_submitted = 0;  // ever
  uint64_t jobs_completed = 0;  // ever: finished, or skipped as abandoned
  size_t queue_depth = 0;       // submitted, not yet started
  // How long the job first in the queue (the one that has waited longest)
  // has waited so far; 0 when the queue is empty. A value that grows means
  // every thread is busy and the limit is reached, or jobs block.
  std::chrono::nanoseconds oldest_queued_wait{0};
};

}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_POOL_METRICS_H_
