// The cooperative budget: how weft keeps a task whose awaits never suspend
// from monopolising its thread (tokio's `coop`).
//
// What it is for: a task awaits in a loop on something that is always ready
// (a socket that always has data, a channel that is never empty, a mutex
// nobody else wants, the JoinHandles of finished tasks). Every await then
// completes at once, the task never returns to its worker, and every other
// task queued on that worker, and the worker's I/O poll, starve. The budget
// bounds how much such work one run of a task may do.
//
// How it works: each thread has a budget, a count of "operations that
// completed without suspending". When a worker starts running a task
// (run_task, the one place every executor, block_on and try_tick go
// through), the budget is reset to the executor's limit (kDefaultCoopBudget,
// 128 as in tokio; ExecutorOptions::budget, LocalExecutorOptions::budget,
// BlockOnOptions::budget; 0 means unlimited). Each leaf await that completes
// at once consumes one unit. An await that finds none left does not
// complete: it re-queues its task at the back of its queue, as yield_now()
// does, and suspends having done nothing and registered nothing. When the
// task next runs, with a fresh budget, the await does its operation as
// usual: it completes, or waits like any other await (for the awaiters whose
// operation may have to wait, run_task calls back into them first: see
// DeferredOp). An await that suspends for real consumes nothing; the task
// gets a fresh budget on its next run anyway. Outside a run of a task the
// budget is unlimited.
//
// Which awaits consume a unit, and why. Every leaf awaiter of weft that can
// complete without suspending, because a loop on any of them can spin:
//   - Async<T> I/O (read, write, readv, writev, read_with, write_with, and
//     the socket types' accept, connect, recv, send, which all use the same
//     retry loop): one unit per operation that completed, checked before the
//     syscall. readable() / writable() on a ready fd. (tokio: every
//     PollEvented operation, through Registration::poll_ready.)
//   - Channel send and recv, oneshot receive. (tokio: mpsc recv, bounded
//     send, oneshot.)
//   - Mutex lock, RwLock read/write, Semaphore acquire. (tokio: all three
//     acquire its batch semaphore, which consumes budget.)
//   - Event, WaitGroup and Barrier waits. tokio 1.24 does not budget Notify
//     or Barrier; we do, since an Event with a stored permit or a WaitGroup
//     at zero completes at once just the same.
//   - JoinHandle await (and cancel()) of a finished task, BlockingJob await
//     of a finished job. (tokio: JoinHandle, spawn_blocking's included.)
//   - sleep_for / sleep_until with a deadline already past, awaiting a Timer
//     that has fired or is unarmed. (tokio: Sleep.)
//   - stop_requested() after the stop.
//   - consume_budget(), for loops that await nothing (below).
// Not: yield_now() (it always yields), awaiting a Task (not a leaf: the
// leaves inside it count), when_all / when_any themselves (their children
// run inside the awaiting task's run and share its budget, as the futures
// in tokio's join! share their task's; the group also yields on its own
// after 32 child runs), and the group's internal waits.
//
// Requires: nothing of users. A leaf awaiter outside weft needs nothing
// either: it simply does not take part. A weft leaf awaiter calls
// coop_ready() in await_ready and coop_suspend() (or coop_yield()) in
// await_suspend, as below.
//
// Guarantees:
// - A run of a task completes at most `budget` awaits without suspending;
//   the next such await goes to the back of the queue first. With budget 0,
//   never.
// - No operation is lost or done twice: an await that yields for the budget
//   has done nothing yet, and does its operation exactly once, when its
//   task next runs. Cancelling the task at that point (dropping its
//   JoinHandle) destroys it cleanly: nothing was registered anywhere.
// - An await yields for the budget at most once: its operation is done on
//   the task's next run whatever the budget then holds, so a task whose
//   run always starts with an exhausted budget (the second child of a
//   when_all behind a greedy first) still makes progress.
// - The cost on the hot path is a thread-local load, compare and decrement.
//
// Example (a computation that awaits nothing cooperates explicitly):
//   weft::Task<uint64_t> checksum(std::span<const Block> blocks) {
//     uint64_t sum = 0;
//     for (const Block& b : blocks) {
//       sum += hash(b);
//       co_await weft::consume_budget();   // yields once per 128 blocks
//     }
//     co_return sum;
//   }
//   // And a reader that never finds its socket empty yields every 128 reads:
//   for (;;) { auto n = co_await sock.read(buf, sizeof buf); ... }
// Both are tests in tests/coop_test.cc.
#ifndef WEFT_EXECUTOR_COOP_H_
#define WEFT_EXECUTOR_COOP_H_

#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>

#include "executor/task.h"
#include "executor/task_header.h"

namespace weft {

// The budget a run of a task starts with unless its executor's options say
// otherwise: tokio's, high enough to amortise a trip through the queue,
// low enough that a worker serves its other tasks every ~128 operations.
inline constexpr uint32_t kDefaultCoopBudget = 128;

namespace detail {

// A budget that never runs out: the value of an option set to 0, and of the
// thread's budget outside a run.
inline constexpr uint32_t kCoopUnlimited = UINT32_MAX;

// The calling thread's budget. Thread-local and touched only by its own
// thread, so plain fields, no atomics.
struct CoopState {
  // Units left in the current run (kCoopUnlimited outside a run).
  uint32_t remaining = kCoopUnlimited;
  // What an outermost run starts with; set while a thread serves an
  // executor (CoopLimitScope).
  uint32_t limit = kCoopUnlimited;
  // Whether a run is in progress: runs nested in it (the children of
  // when_all / when_any) share its budget instead of getting a fresh one.
  bool in_run = false;
  // Awaits that yielded for the budget on this thread (tests, diagnostics).
  uint64_t forced_yields = 0;
};
// constinit: no dynamic initialisation, so accesses need no TLS init guard.
inline constinit thread_local CoopState t_coop;

inline uint32_t coop_limit_of(uint32_t budget_option) noexcept {
  return budget_option == 0 ? kCoopUnlimited : budget_option;
}

inline bool coop_has_budget() noexcept { return t_coop.remaining != 0; }

// Counts one operation that completed without suspending. Never goes below
// zero (a deferred operation completes even on an empty budget).
inline void coop_consume() noexcept {
  uint32_t& r = t_coop.remaining;
  if (r != 0 && r != kCoopUnlimited) --r;
}

// For await_ready: runs `try_now` (the operation, done if it can be done at
// once) only if budget is left, and counts it if it completed. False sends
// the await to await_suspend, which yields when the budget is the reason.
template <class F>
bool coop_ready(F&& try_now) {
  if (!coop_has_budget()) return false;
  if (!try_now()) return false;
  coop_consume();
  return true;
}

// Re-queues the running task at the back of its queue (it is RUNNING, so
// the wake only marks it SCHEDULED; the runner pushes it when this run
// ends). The caller then suspends.
inline void coop_requeue(TaskHeader* task) noexcept {
  ++t_coop.forced_yields;
  wake_by_ref(task, running_generation(task));
}

// For await_suspend of an awaiter whose completion, once seen, stays true
// (a finished task, a passed deadline, a sent oneshot): yields if the
// budget is exhausted (true: suspend; await_resume then completes), else
// counts the completion (false: don't suspend).
template <WeftPromise P>
bool coop_yield(std::coroutine_handle<P> h) noexcept {
  if (coop_has_budget()) {
    coop_consume();
    return false;
  }
  coop_requeue(h.promise().task());
  return true;
}

// An await that always yields for the budget, for coroutines that check
// coop_has_budget() themselves before an operation (Async's retry loop).
struct CoopYield {
  bool await_ready() const noexcept { return false; }
  template <WeftPromise P>
  void await_suspend(std::coroutine_handle<P> h) const noexcept {
    coop_requeue(h.promise().task());
  }
  void await_resume() const noexcept {}
};

// The operation of a leaf await that yielded for the budget, done when its
// task next runs. Kept in the awaiter (so in the suspended frame); the task
// header points to it (TaskHeader::deferred_op) until the runner calls it.
//
// Used by awaiters whose operation changes something (takes an item, the
// lock, permits, a notification, a readiness bit), so the yield must come
// before it, and whose operation may then have to wait, which await_resume
// cannot do. run_task calls run() on the task's next run, in place of
// resuming the coroutine: the awaiter's try_suspend does what await_suspend
// would have done. If it completed, the coroutine is resumed and
// await_resume delivers the outcome; if it queued a waiter, the task stays
// suspended until that waiter is woken, as after any await_suspend.
//
// A cancelled task is destroyed without running it: its awaiter had
// registered nothing.
class DeferredOp {
 public:
  DeferredOp() noexcept = default;
  DeferredOp(const DeferredOp&) = delete;
  DeferredOp& operator=(const DeferredOp&) = delete;

  // For await_suspend of an awaiter A with a member
  //   template <WeftPromise P> bool try_suspend(std::coroutine_handle<P>)
  // that does await_suspend's work (true: queued a waiter; false: done).
  // Use as `return coop_.suspend<&A::template try_suspend<P>>(this, h);`.
  template <auto kTrySuspend, class A, WeftPromise P>
  bool suspend(A* awaiter, std::coroutine_handle<P> h) {
    if (!coop_has_budget()) [[unlikely]] {
      awaiter_ = awaiter;
      awaiting_ = h.address();
      run_ = &run_deferred<kTrySuspend, A, P>;
      TaskHeader* task = h.promise().task();
      // Read by run_task on the task's next run, on whichever thread: the
      // state word's release at the end of this run publishes it.
      task->deferred_op = this;
      coop_requeue(task);
      return true;
    }
    if ((awaiter->*kTrySuspend)(h)) return true;
    coop_consume();
    return false;
  }

  // For an awaiter that has just queued a waiter and must retry its
  // operation when woken, before its coroutine resumes (Async I/O: a wake
  // means "try the syscall again", which may have to wait again, and
  // await_resume cannot wait). Like the budget path of suspend(), but
  // without the yield: the task's next run, whatever wakes it, calls
  // kTrySuspend first (true: it queued a waiter again and re-armed; false:
  // done, resume). Call it from await_suspend (or from kTrySuspend itself),
  // on the thread running the task, only once the task will suspend (a
  // waiter is queued): an armed op must not outlive its awaiter.
  template <auto kTrySuspend, class A, WeftPromise P>
  void arm(A* awaiter, std::coroutine_handle<P> h) noexcept {
    awaiter_ = awaiter;
    awaiting_ = h.address();
    run_ = &run_deferred<kTrySuspend, A, P>;
    // Published with the run's end, as in suspend().
    h.promise().task()->deferred_op = this;
  }

  // For await_resume: rethrows what the deferred operation threw (as
  // await_suspend's exception would have been thrown from the co_await).
  void rethrow_if_failed() {
    if (error_) [[unlikely]] std::rethrow_exception(std::exchange(error_, nullptr));
  }

  // run_task: does the operation. True: resume the awaiting coroutine.
  bool run() noexcept { return run_(*this); }

 private:
  template <auto kTrySuspend, class A, WeftPromise P>
  static bool run_deferred(DeferredOp& op) noexcept {
    auto* awaiter = static_cast<A*>(op.awaiter_);
    auto h = std::coroutine_handle<P>::from_address(op.awaiting_);
    try {
      if ((awaiter->*kTrySuspend)(h)) return false;
    } catch (...) {
      op.error_ = std::current_exception();
      return true;
    }
    coop_consume();
    return true;
  }

  bool (*run_)(DeferredOp&) noexcept = nullptr;
  void* awaiter_ = nullptr;
  void* awaiting_ = nullptr;  // the suspended coroutine's address
  std::exception_ptr error_;
};

// run_task: gives the outermost run of a task on this thread a fresh budget
// from the thread's limit, and leaves the budget unlimited afterwards.
class CoopRunScope {
 public:
  CoopRunScope() noexcept : outermost_(!t_coop.in_run) {
    if (outermost_) {
      t_coop.in_run = true;
      t_coop.remaining = t_coop.limit;
    }
  }
  ~CoopRunScope() {
    if (outermost_) {
      t_coop.in_run = false;
      t_coop.remaining = kCoopUnlimited;
    }
  }
  CoopRunScope(const CoopRunScope&) = delete;
  CoopRunScope& operator=(const CoopRunScope&) = delete;

 private:
  const bool outermost_;
};

// Executors: sets the limit that runs on this thread start from, while the
// thread serves them (`budget` as in the options: 0 is unlimited).
class CoopLimitScope {
 public:
  explicit CoopLimitScope(uint32_t budget) noexcept : saved_(t_coop.limit) {
    t_coop.limit = coop_limit_of(budget);
  }
  ~CoopLimitScope() { t_coop.limit = saved_; }
  CoopLimitScope(const CoopLimitScope&) = delete;
  CoopLimitScope& operator=(const CoopLimitScope&) = delete;

 private:
  const uint32_t saved_;
};

}  // namespace detail

// `co_await weft::consume_budget()`: counts one unit of the running task's
// budget, and yields first if none is left (tokio's consume_budget). For
// loops that do a lot of work without awaiting anything that counts.
class [[nodiscard]] ConsumeBudget {
 public:
  bool await_ready() const noexcept {
    return detail::coop_ready([] { return true; });
  }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) const noexcept {
    return detail::coop_yield(h);
  }
  void await_resume() const noexcept {}
};
inline ConsumeBudget consume_budget() noexcept { return {}; }

}  // namespace weft

#endif  // WEFT_EXECUTOR_COOP_H_
