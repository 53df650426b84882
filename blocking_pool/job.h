// The state shared by one blocking job and the handle that awaits it.
//
// What it is for: `unblock(f)` allocates one Job, which holds the callable
// until it runs, then its result (or exception), and the slot through which
// the job wakes whoever waits for it. The pool thread and the handle each hold
// a reference; the last one to let go frees it, so cancelling the awaiting
// task (destroying its frame while the job is queued or running) leaks
// nothing and frees nothing too early.
//
// Two shared words besides the reference count:
//
//   done_       an AtomicWaker (executor/atomic_waker.h). The awaiter
//               registers its Waker there (and withdraws it if its frame is
//               destroyed); the job closes it when it finishes, which wakes
//               the awaiter and marks the result published. A thread in
//               BlockingJob::wait() blocks on it instead.
//   abandoned_  set by a handle that goes away without detach(): a job that
//               has not started is then skipped (its callable destroyed).
//
// A completion racing with the suspend either takes the Waker (and wakes
// it) or makes the registration fail (and the awaiter does not suspend):
// no wake-up is lost and none is delivered twice (atomic_waker.h).
//
// Memory ordering, pair by pair:
// - finish()'s close of done_ (release) -> ready() / a failing
//   register_waker() / wait_blocking() (acquire): the result (and the
//   destruction of the callable) is visible to the handle that saw it done.
// - register_waker (release) -> finish()'s close (acquire): the job sees
//   the whole Waker it wakes.
// - abandoned_ is a hint (relaxed both ways): a job abandoned just after
//   execute() looked runs, and its result is destroyed with the state.
// - the reference count: fetch_sub is acq_rel, so the freeing thread sees
//   every other holder's writes (the usual shared_ptr protocol).
#ifndef WEFT_BLOCKING_POOL_JOB_H_
#define WEFT_BLOCKING_POOL_JOB_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <variant>

#include "executor/atomic_waker.h"
#include "executor/waker.h"

namespace weft {
namespace detail {

class JobBase {
 public:
  JobBase(const JobBase&) = delete;
  JobBase& operator=(const JobBase&) = delete;

  // Misuse that cannot be reported as a value: prints what and aborts.
  [[noreturn]] static void misuse(const char* what) noexcept {
    std::fprintf(stderr, "weft: %s\n", what);
    std::abort();
  }

  // --- the pool's side -------------------------------------------------
  // Runs the callable (or only destroys it, if the handle was abandoned
  // before the job started) and stores the result. Called once, on a pool
  // thread; complete() follows.
  void execute() noexcept {
    // relaxed: skipping an abandoned job saves work but is not needed for
    // safety (a job abandoned just after this load runs, and its result is
    // destroyed with the state); nothing is read through this value.
    if (abandoned_.load(std::memory_order_relaxed)) {
      discard();
    } else {
      invoke();
    }
  }
  // Publishes the result, wakes the waiter, and drops the pool's reference.
  // The pool calls it after counting its thread free again, so the task it
  // wakes may submit its next job to this very thread.
  void complete() noexcept {
    finish();
    unref();
  }
  void run() noexcept {
    execute();
    complete();
  }

  // Intrusive link of the pool's queue; written under the pool's lock.
  JobBase* next = nullptr;
  // When the job was submitted (steady clock, ns): the pool's
  // oldest_queued_wait metric. Written by the submitter before it queues
  // the job, read under the pool's lock.
  int64_t queued_at_ns = 0;

  // --- the handle's side -----------------------------------------------
  bool ready() const noexcept { return done_.closed(); }

  // Registers `w` to be woken when the job finishes. Returns false (and
  // drops it) when the job already finished: the caller must not suspend.
  bool register_waker(Waker w) noexcept { return done_.register_waker(std::move(w)); }

  // Takes back the Waker register_waker stored (the awaiting frame is being
  // destroyed). If the job already took it, it wakes (or woke) it: a wake of
  // a suspension that is over is a no-op.
  void deregister_waker() noexcept { done_.withdraw(); }

  // Blocks the calling thread until the job finished (for code that is not
  // a task: destructors handing work to the pool, synchronous callers).
  void wait_blocking() noexcept { done_.wait_closed(); }

  // The handle goes away. `detach`: let the job run, drop its result;
  // otherwise the job is abandoned (skipped if it has not started). Drops
  // the handle's reference.
  void release_handle(bool detach) noexcept {
    // relaxed: a hint for execute() (see the header comment).
    if (!detach) abandoned_.store(true, std::memory_order_relaxed);
    done_.withdraw();  // a Waker still there is ours to drop
    unref();
  }

 protected:
  JobBase() noexcept = default;
  virtual ~JobBase() = default;

  // Runs the callable, stores its result or exception, destroys it.
  virtual void invoke() noexcept = 0;
  // Destroys the callable without running it.
  virtual void discard() noexcept = 0;


 private:
  void finish() noexcept {
    // The close publishes the result (see the header comment) and hands us
    // the registered Waker. A thread blocked in wait_blocking() holds the
    // handle's reference, so the state stays alive until it returns.
    Waker w = done_.close();
    done_.notify_blocked();
    std::move(w).wake();
  }

  void unref() noexcept {
    // acq_rel: the usual shared ownership protocol (see header comment).
    // Safety: every Job is made by `new` in BlockingPool::spawn, and the
    // last reference is the last user: nobody touches it after this.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // One reference for the pool (dropped after run()), one for the handle.
  std::atomic<uint32_t> refs_{2};
  std::atomic<bool> abandoned_{false};
  AtomicWaker done_;
};

// The result half of a job: what the handle can see without knowing the
// callable's type. `T` is a value type or void.
template <class T>
class JobResult : public JobBase {
 public:
  // Moves the result out, or rethrows the callable's exception. Call once,
  // after ready().
  T take() {
    if (result_.index() == 2) {
      // Move the exception out first, so that every reference to it lives on
      // the taking thread: the job state may be freed by the pool thread,
      // and exception_ptr's count is kept by uninstrumented libstdc++ code
      // that TSan cannot pair across threads.
      std::exception_ptr e = std::move(std::get<2>(result_));
      result_.template emplace<0>();
      std::rethrow_exception(std::move(e));
    }
    if constexpr (!std::is_void_v<T>) return std::move(std::get<1>(result_));
  }

 protected:
  template <class F>
  void store_result(F& f) noexcept {
    try {
      if constexpr (std::is_void_v<T>) {
        std::invoke(std::move(f));
        result_.template emplace<1>();
      } else {
        result_.template emplace<1>(std::invoke(std::move(f)));
      }
    } catch (...) {
      result_.template emplace<2>(std::current_exception());
    }
  }

 private:
  struct Void {};
  using Value = std::conditional_t<std::is_void_v<T>, Void, T>;
  // Written by the pool thread before finish() publishes it; read by the
  // handle after it saw the job done (ready()).
  std::variant<std::monostate, Value, std::exception_ptr> result_;
};

// What a blocking job returns: the callable's result, decayed (a job that
// returns a reference hands back a copy, since the referent would have to
// outlive the job).
template <class F>
using JobValue = std::decay_t<std::invoke_result_t<std::decay_t<F>&&>>;

// The whole job: the callable until it has run, then the result.
template <class F>
class Job final : public JobResult<JobValue<F>> {
 public:
  template <class G>
  explicit Job(G&& g) : fn_(std::forward<G>(g)) {}
  ~Job() override {
    if (!fn_done_) fn_.~F();
  }

 private:
  void invoke() noexcept override {
    this->store_result(fn_);
    destroy_fn();
  }
  void discard() noexcept override { destroy_fn(); }

  void destroy_fn() noexcept {
    fn_done_ = true;
    // Safety: fn_ was constructed in the constructor and is destroyed once:
    // here (after it ran, or instead of running) or, if never run, in ~Job.
    fn_.~F();
  }

  // The callable lives in a union so it can be destroyed as soon as it has
  // run, on the pool thread, before the result is published: whoever awaits
  // the result can rely on the callable's captures being gone.
  union {
    F fn_;
  };
  bool fn_done_ = false;  // pool thread only (or the last owner, in ~Job)
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_JOB_H_
