// LocalPool: thread-per-core. N threads, each running its own
// LocalExecutor; a task sent to a worker is built there and runs there for
// its whole life.
//
// What it is for: programs that partition their state per core (a cache
// shard, a connection set, a per-core allocator) and want each piece touched
// by one thread only, with no locks or atomics around it, while still using
// weft's reactor, timers, Async<T>, blocking pool and channels. The shared
// Executor remains the default; this is the other model, in the same
// library (tokio-util's LocalPoolHandle, glommio's and monoio's executors).
//
//   spawn_pinned(f)        f is a callable (moved to the worker) returning
//                          weft::Task<T>. The worker calls f() itself, so
//                          the task it builds may hold thread-local, non
//                          thread-safe state; the result comes back through
//                          the JoinHandle<T>, which any thread may await.
//                          The worker with the fewest pinned tasks alive
//                          takes it.
//   spawn_pinned_on(i, f)  the same, on worker i.
//   spawn_local(task)      from a task already on a worker: run another task
//                          beside it, on the same worker (tokio's
//                          spawn_local).
//
// Requires: the pool outlives every spawn_pinned/spawn_pinned_on call made
// from outside it (calls from the pool's own tasks are always fine, even
// during shutdown). f must be safe to move to another thread; what it builds
// need not be.
//
// Guarantees:
// - A pinned task, and every task spawn_local starts from it, runs only on
//   its worker's thread: each resume, and the destruction of its frame.
// - Destroying the pool cancels what still runs: every worker stops taking
//   tasks, and once all have stopped, each destroys its own tasks on its own
//   thread (their destructors run there). Awaiting the handle of a task
//   cancelled this way throws weft::TaskCancelled, as with any executor.
// - Worker threads are named "weft-local-<i>". With pinning, worker i runs
//   only on its CPU from before its first task.
//
// Decisions: a bad option (a CPU this process may not use, more pinned
// workers than CPUs) throws std::invalid_argument from the constructor,
// naming it; a thread that cannot be started throws std::system_error, as
// std::thread does. There is no work stealing between workers, by design:
// that is the shared Executor's job.
//
// Example:
//   weft::LocalPool pool({.threads = 2, .pin_to_cpus = true});
//   auto h = pool.spawn_pinned([] { return serve_shard(); });  // Task<void>
//   ...
//   co_await h;
#ifndef WEFT_EXECUTOR_LOCAL_POOL_H_
#define WEFT_EXECUTOR_LOCAL_POOL_H_

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "executor/coop.h"
#include "executor/join_handle.h"
#include "executor/local_executor.h"
#include "executor/metrics.h"
#include "executor/task_dump.h"
#include "executor/task.h"

namespace weft {

struct LocalPoolOptions {
  // Worker threads; 0 means one per CPU this process may run on (or one per
  // entry of `cpus`, when given).
  size_t threads = 0;
  // Pin worker i to cpus[i % cpus.size()]. Empty: see pin_to_cpus.
  std::vector<int> cpus{};
  // With `cpus` empty: pin worker i to the i-th CPU this process may run on.
  bool pin_to_cpus = false;
  // Each worker's cooperative budget (LocalExecutorOptions::budget).
  uint32_t budget = kDefaultCoopBudget;
};

namespace detail {
class LocalPoolImpl;
// Counts the pinned tasks alive on one worker; the pool reads it to choose.
struct alignas(64) PinnedLoad {
  // relaxed everywhere: a hint for placement; no data is published with it.
  std::atomic<size_t> count{0};
};
// Lives in a pinned task's frame: counts the task on its worker until the
// frame is destroyed (finished, cancelled, or dropped by a shutdown).
class PinnedLoadGuard {
 public:
  explicit PinnedLoadGuard(PinnedLoad* load) noexcept : load_(load) {
    load_->count.fetch_add(1, std::memory_order_relaxed);  // relaxed: see PinnedLoad
  }
  PinnedLoadGuard(PinnedLoadGuard&& o) noexcept : load_(std::exchange(o.load_, nullptr)) {}
  PinnedLoadGuard(const PinnedLoadGuard&) = delete;
  PinnedLoadGuard& operator=(const PinnedLoadGuard&) = delete;
  ~PinnedLoadGuard() {
    if (load_) load_->count.fetch_sub(1, std::memory_order_relaxed);  // relaxed: see PinnedLoad
  }

 private:
  PinnedLoad* load_;
};

template <class F>
using PinnedTask = std::invoke_result_t<F&>;

// The task a pinned spawn sends: built on the spawning thread, it calls f()
// only once it runs, i.e. on the worker.
template <class F>
PinnedTask<F> run_pinned(F f, PinnedLoadGuard guard) {
  using T = typename PinnedTask<F>::value_type;
  if constexpr (std::is_void_v<T>) {
    co_await f();
  } else {
    co_return co_await f();
  }
}

// The calling thread's worker, if it is one of a LocalPool's.
LocalExecutor* current_pool_executor() noexcept;
}  // namespace detail

class LocalPool {
 public:
  explicit LocalPool(LocalPoolOptions options = {});
  ~LocalPool();
  LocalPool(const LocalPool&) = delete;
  LocalPool& operator=(const LocalPool&) = delete;

  // Number of worker threads.
  size_t size() const noexcept;

  template <class F>
  JoinHandle<typename detail::PinnedTask<F>::value_type> spawn_pinned(
      F f, std::source_location spawned_at = std::source_location::current()) {
    return spawn_pinned_on(least_loaded(), std::move(f), spawned_at);
  }

  template <class F>
  JoinHandle<typename detail::PinnedTask<F>::value_type> spawn_pinned_on(
      size_t worker, F f, std::source_location spawned_at = std::source_location::current()) {
    static_assert(std::is_same_v<detail::PinnedTask<F>,
                                 Task<typename detail::PinnedTask<F>::value_type>>,
                  "spawn_pinned takes a callable that returns a weft::Task<T>");
    if (worker >= size()) {
      throw std::out_of_range("weft: LocalPool::spawn_pinned_on: worker " + std::to_string(worker) +
                              " of a pool of " + std::to_string(size()));
    }
    return executor(worker).spawn_remote(
        detail::run_pinned(std::move(f), detail::PinnedLoadGuard(load(worker))), spawned_at);
  }

  // Pinned tasks alive on `worker` (queued, running or waiting).
  size_t pinned_tasks(size_t worker) const noexcept;

  // One snapshot per worker (LocalExecutor::metrics), from any thread.
  std::vector<ExecutorMetrics> metrics() const;

  // One dump per worker (LocalExecutor::dump), from any thread.
  std::vector<TaskDump> dump() const;

  // From a task running on a pool worker: spawns `task` on the same worker.
  // Elsewhere, throws std::logic_error.
  template <class T>
  static JoinHandle<T> spawn_local(Task<T> task,
                                   std::source_location spawned_at = std::source_location::current()) {
    LocalExecutor* ex = detail::current_pool_executor();
    if (!ex) {
      throw std::logic_error("weft: LocalPool::spawn_local called outside a LocalPool worker");
    }
    return ex->spawn(std::move(task), spawned_at);
  }

  // The index of the pool worker the calling thread is, if it is one.
  static std::optional<size_t> current_worker() noexcept;

 private:
  size_t least_loaded() noexcept;
  LocalExecutor& executor(size_t worker) noexcept;
  detail::PinnedLoad* load(size_t worker) noexcept;

  std::unique_ptr<detail::LocalPoolImpl> impl_;
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_LOCAL_POOL_H_
