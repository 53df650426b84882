// WeftWorkers: a weft::Executor served by N std::threads, for benchmarks.
//
// What it is for: weft's Executor has no threads of its own; a thread works
// for it while inside `ex.run(main)`. Each worker here runs a main task that
// only waits on a WaitGroup used as a one-shot latch, so the workers serve
// spawned tasks until the pool is destroyed, the way an Asio io_context
// serves handlers while a work guard keeps run() from returning.
//
// Requires: construct and destroy on one thread, which is not a worker.
// Guarantees: the constructor returns once every worker is inside run();
// the destructor wakes every worker's main task, joins the threads, then
// destroys the executor (which destroys any task still held).
//
// Example:
//   WeftWorkers pool(2);
//   pool.executor().spawn(work()).detach();
#ifndef WEFT_BENCHES_WEFT_WORKERS_H_
#define WEFT_BENCHES_WEFT_WORKERS_H_

#include <thread>
#include <vector>

#include "weft.h"

namespace weft_bench {

class WeftWorkers {
 public:
  explicit WeftWorkers(int threads) {
    stop_.add(1);  // a one-shot latch: done() in the destructor releases all
    workers_.reserve(threads);
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { executor_.run(wait_for_stop(&stop_)); });
    }
    // Timing starts only once every worker has joined the executor.
    while (executor_.num_workers() < static_cast<size_t>(threads)) std::this_thread::yield();
  }
  ~WeftWorkers() {
    stop_.done();
    for (std::thread& t : workers_) t.join();
  }
  WeftWorkers(const WeftWorkers&) = delete;
  WeftWorkers& operator=(const WeftWorkers&) = delete;

  weft::Executor& executor() noexcept { return executor_; }

 private:
  static weft::Task<void> wait_for_stop(weft::WaitGroup* stop) { co_await stop->wait(); }

  // Declared first so it is destroyed last, after the threads are joined.
  weft::Executor executor_;
  weft::WaitGroup stop_;
  std::vector<std::thread> workers_;
};

}  // namespace weft_bench

#endif  // WEFT_BENCHES_WEFT_WORKERS_H_
