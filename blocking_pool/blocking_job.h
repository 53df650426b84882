// BlockingJob<T>: the awaitable handle of a job running on the blocking pool.
//
// What it is for: `unblock(f)` (and every fs:: function) starts a job on the
// pool at once and returns one of these. `co_await job` suspends the task
// until the job finished and gives its result, or rethrows the exception the
// callable threw. Several jobs may be started before any is awaited; they
// run concurrently.
//
// Requires: await it from a weft coroutine (a Task or a spawned task), at
// most once, by one waiter at a time. `wait()` blocks the calling thread
// instead; use it only off the executor (in synchronous code or in another
// blocking job).
//
// Guarantees:
// - A completion racing with the suspend never loses the wake-up (see the
//   waiter protocol in job.h).
// - Destroying the handle before the result was taken cancels the job: if it
//   has not started it never runs (its callable is destroyed, on a pool
//   thread); if it is running it finishes and its result is destroyed by
//   whichever side lets go last. The callable and the result are each
//   destroyed exactly once. The same holds when the awaiting task is
//   cancelled: its frame owns the handle.
// - `detach()` lets the job run to completion and drops its result.
// - Misuse fails loudly: awaiting a moved-from, detached or already awaited
//   handle throws std::logic_error naming the mistake.
//
// Example:
//   weft::BlockingJob<int> job = weft::unblock([] { return slow_checksum(); });
//   int sum = co_await job;               // or: co_await weft::unblock(...)
#ifndef WEFT_BLOCKING_POOL_BLOCKING_JOB_H_
#define WEFT_BLOCKING_POOL_BLOCKING_JOB_H_

#include <coroutine>
#include <stdexcept>
#include <utility>

#include "blocking_pool/job.h"
#include "executor/coop.h"
#include "executor/task.h"

namespace weft {

template <class T>
class [[nodiscard]] BlockingJob {
 public:
  using value_type = T;

  BlockingJob() noexcept = default;
  // Internal: adopts the handle's reference to `job`.
  explicit BlockingJob(detail::JobResult<T>* job) noexcept : job_(job) {}
  BlockingJob(BlockingJob&& o) noexcept
      : job_(std::exchange(o.job_, nullptr)), taken_(std::exchange(o.taken_, false)) {}
  BlockingJob& operator=(BlockingJob&& o) noexcept {
    if (this != &o) {
      reset(false);
      job_ = std::exchange(o.job_, nullptr);
      taken_ = std::exchange(o.taken_, false);
    }
    return *this;
  }
  BlockingJob(const BlockingJob&) = delete;
  BlockingJob& operator=(const BlockingJob&) = delete;
  ~BlockingJob() { reset(false); }

  explicit operator bool() const noexcept { return job_ != nullptr; }
  // Whether the job finished (a co_await would not suspend).
  bool is_ready() const noexcept { return job_ && job_->ready(); }

  // Lets the job run on alone; its result is dropped.
  void detach() noexcept { reset(true); }

  // Blocks the calling thread until the job finished; returns its result.
  T wait() {
    check_usable();
    job_->wait_blocking();
    return take();
  }

  class Awaiter {
   public:
    explicit Awaiter(BlockingJob* self) noexcept : self_(self) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      // Our frame is being destroyed while suspended (the task was
      // cancelled): take the waker back so it does not outlive the wait.
      if (registered_) self_->job_->deregister_waker();
    }

    // A finished job's result counts against the cooperative budget
    // (executor/coop.h); with none left the await yields before taking it.
    bool await_ready() const {
      self_->check_usable();
      return detail::coop_ready([this] { return self_->job_->ready(); });
    }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // The task is RUNNING until this returns, so a wake from the pool
      // thread cannot resume it (and clear registered_) before we are done.
      registered_ = true;
      if (!self_->job_->register_waker(current_waker(h))) {
        registered_ = false;
        return detail::coop_yield(h);  // finished (and it stays so)
      }
      return true;
    }
    T await_resume() {
      registered_ = false;  // the job took the waker when it woke us
      // Only the job's wake resumes us: a Waker kept from an earlier
      // suspension is inert (executor/waker.h).
      if (!self_->job_->ready()) {
        detail::JobBase::misuse(
            "a task awaiting a BlockingJob was resumed before the job finished (an awaiter "
            "that did not suspend left this task's Waker registered)");
      }
      return self_->take();
    }

   private:
    BlockingJob* self_;
    bool registered_ = false;
  };
  Awaiter operator co_await() & noexcept { return Awaiter(this); }
  Awaiter operator co_await() && noexcept { return Awaiter(this); }

 private:
  void check_usable() const {
    if (taken_) throw std::logic_error("weft: a BlockingJob was awaited twice");
    if (!job_) throw std::logic_error("weft: co_await on a moved-from or detached BlockingJob");
  }
  T take() {
    taken_ = true;
    // Drop our reference after the result is moved out (or rethrown).
    struct Release {
      BlockingJob* self;
      ~Release() { self->reset(false); }
    } release{this};
    return job_->take();
  }
  void reset(bool detach) noexcept {
    if (job_) std::exchange(job_, nullptr)->release_handle(detach);
  }

  detail::JobResult<T>* job_ = nullptr;
  bool taken_ = false;
};

}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_BLOCKING_JOB_H_
