// ExecutorMetrics: what an Executor is doing, read from any thread while it
// runs (tokio's RuntimeMetrics).
//
// What it is for: dashboards and "why is this slow" questions: are tasks
// piling up in the shared queue, is one worker doing all the work, how
// often do workers steal, sleep, overflow their queue.
//
// Cost: always on. Each worker counts into its own cache line with plain
// relaxed stores (no read-modify-write), and the clock is read only around
// a park (which costs microseconds anyway). The executor-wide counts are
// kept under locks the executor takes anyway. metrics() locks briefly and
// allocates the vector.
//
// Guarantees: every counter only grows (busy time included) for a given
// slot. A snapshot taken while workers run is not atomic across counters:
// each value was true at some moment during the call.
#ifndef WEFT_EXECUTOR_METRICS_H_
#define WEFT_EXECUTOR_METRICS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace weft {

// One worker slot: the place a thread takes while it is inside run(). Slots
// are reused by later threads, so a slot's counts add up across them.
struct WorkerMetrics {
  bool active = false;           // a thread is inside run() on this slot now
  uint64_t polls = 0;            // tasks run
  uint64_t lifo_polls = 0;       // of those, taken from the LIFO slot
  uint64_t overflowed = 0;       // tasks moved to the shared queue: local queue full
  uint64_t steal_operations = 0; // steals that took something
  uint64_t stolen = 0;           // tasks those steals took
  uint64_t parks = 0;            // times the thread slept for lack of work
  std::chrono::nanoseconds busy{0};  // time inside run() not asleep
  size_t queue_depth = 0;        // tasks in the local queue and LIFO slot now
};

struct ExecutorMetrics {
  std::vector<WorkerMetrics> workers;
  size_t threads = 0;         // threads inside run() now
  uint64_t spawned = 0;       // tasks ever spawned
  size_t live_tasks = 0;      // spawned and not yet finished or destroyed
  size_t injector_depth = 0;  // tasks in the shared queue now
  size_t searching = 0;       // workers looking for work now
  size_t sleeping = 0;        // workers asleep now
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_METRICS_H_
