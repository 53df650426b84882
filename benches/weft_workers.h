// WeftWorkers: a weft::Executor served by N std::threads, for benchmarks.
//
// What it is for: weft's Executor has no threads of its own; a thread works
// for it while inside `ex.run(main)`. Each worker here runs a main task that
// only waits on a StopSignal, so the workers serve spawned tasks until the
// pool is destroyed, the way an Asio io_context serves handlers while a work
// guard keeps run() from returning.
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

#include <coroutine>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "weft.h"

namespace weft_bench {

// A one-shot event that weft tasks can await: fire() wakes every waiter,
// and waits that start after fire() complete at once.
class StopSignal {
 public:
  class Awaiter {
   public:
    explicit Awaiter(StopSignal* signal) noexcept : signal_(signal) {}
    bool await_ready() const {
      std::lock_guard<std::mutex> lock(signal_->mu_);
      return signal_->fired_;
    }
    template <weft::detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      std::lock_guard<std::mutex> lock(signal_->mu_);
      if (signal_->fired_) return false;  // fired since await_ready: go on
      signal_->waiters_.push_back(weft::current_waker(h));
      return true;
    }
    void await_resume() const noexcept {}

   private:
    StopSignal* signal_;
  };

  Awaiter wait() noexcept { return Awaiter(this); }

  void fire() {
    std::vector<weft::Waker> to_wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fired_ = true;
      to_wake.swap(waiters_);
    }
    // Wake outside the lock (STYLE.md habit 6).
    for (weft::Waker& w : to_wake) std::move(w).wake();
  }

 private:
  // std::mutex, not absl::Mutex: Debian's libabsl is not built for TSan, so
  // a TSan build of the bench would not see absl::Mutex's hand-offs.
  std::mutex mu_;
  bool fired_ = false;                // guarded by mu_; set once by fire()
  std::vector<weft::Waker> waiters_;  // guarded by mu_
};

class WeftWorkers {
 public:
  explicit WeftWorkers(int threads) {
    workers_.reserve(threads);
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { executor_.run(wait_for_stop(&stop_)); });
    }
    // Timing starts only once every worker has joined the executor.
    while (executor_.num_workers() < static_cast<size_t>(threads)) std::this_thread::yield();
  }
  ~WeftWorkers() {
    stop_.fire();
    for (std::thread& t : workers_) t.join();
  }
  WeftWorkers(const WeftWorkers&) = delete;
  WeftWorkers& operator=(const WeftWorkers&) = delete;

  weft::Executor& executor() noexcept { return executor_; }

 private:
  static weft::Task<void> wait_for_stop(StopSignal* stop) { co_await stop->wait(); }

  // Declared first so it is destroyed last, after the threads are joined.
  weft::Executor executor_;
  StopSignal stop_;
  std::vector<std::thread> workers_;
};

}  // namespace weft_bench

#endif  // WEFT_BENCHES_WEFT_WORKERS_H_
