// Completion: the "atomic counter + completion signal" every executor
// workload waits on.
//
// What it is for: N tasks each call arrive() once as their last action; the
// thread that timed the workload calls wait() and is released by the N-th
// arrival. wait() then checks the count, so a run that lost or duplicated a
// task aborts instead of printing a figure.
//
// Requires: the Completion outlives every task that may call arrive() (the
// bench destroys it only after the worker threads are joined). arrive() is
// called at most `expected` times (an extra call is caught by check_exact()).
// Guarantees: everything a task wrote before its arrive() is visible to the
// waiter after wait() returns.
//
// Example:
//   Completion done(kTasks, "spawn_many");
//   for (...) spawn(task_that_calls(done.arrive()));
//   done.wait();
#ifndef WEFT_BENCHES_COMPLETION_H_
#define WEFT_BENCHES_COMPLETION_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>


namespace weft_bench {

// Prints a message naming the workload and aborts: a broken run must not
// produce a number.
[[noreturn]] inline void fail(const char* what, const char* message, uint64_t got,
                              uint64_t expected) {
  std::fprintf(stderr, "executor_bench: %s: %s (got %llu, expected %llu)\n", what, message,
               static_cast<unsigned long long>(got), static_cast<unsigned long long>(expected));
  std::abort();
}

class Completion {
 public:
  Completion(uint64_t expected, const char* what) : expected_(expected), what_(what) {}
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // Counts one finished unit of work; the expected-th call releases wait().
  void arrive() {
    // acq_rel: the release half publishes this task's writes to the task
    // that makes the final arrival; the acquire half lets that final task
    // pass all of them on through its release store of done_.
    uint64_t before = count_.fetch_add(1, std::memory_order_acq_rel);
    if (before + 1 == expected_) {
      // release: pairs with the acquire load in wait().
      done_.store(true, std::memory_order_release);
      done_.notify_all();
    }
  }

  // Blocks until the expected-th arrival, then checks the count.
  void wait() {
    // acquire: pairs with the release store in arrive(). atomic::wait
    // spins briefly, then sleeps on a futex.
    while (!done_.load(std::memory_order_acquire)) done_.wait(false, std::memory_order_acquire);
    check_exact();
  }

  // Aborts unless exactly `expected` arrivals happened. Call again once the
  // workers have stopped to catch arrivals after the signal.
  void check_exact() const {
    // acquire: pairs with the acq_rel fetch_add in arrive().
    uint64_t got = count_.load(std::memory_order_acquire);
    if (got != expected_) fail(what_, "completion counter is off", got, expected_);
  }

 private:
  std::atomic<uint64_t> count_{0};
  const uint64_t expected_;
  const char* what_;
  // The completion signal: set once by the final arrive(), waited on by
  // wait(). A C++20 atomic wait rather than absl::Notification, whose
  // Debian build is not instrumented, so a TSan build of the bench sees the
  // hand-off.
  std::atomic<bool> done_{false};
};

}  // namespace weft_bench

#endif  // WEFT_BENCHES_COMPLETION_H_
