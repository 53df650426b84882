// The state shared by one blocking job and the handle that awaits it.
//
// What it is for: `unblock(f)` allocates one Job, which holds the callable
// until it runs, then its result (or exception), and the slot through which
// the job wakes whoever waits for it. The pool thread and the handle each hold
// a reference; the last one to let go frees it, so cancelling the awaiting
// task (destroying its frame while the job is queued or running) leaks
// nothing and frees nothing too early.
//
// The waiter slot (`waiter_`), a word with these values:
//
//   kEmpty      nobody waits and the job has not finished.
//   a task      a TaskHeader* (low bit 0): the owned Waker reference of the
//               task suspended on the job. Stored by the awaiter (from kEmpty
//               only); taken back by the awaiter if its frame is destroyed,
//               or taken by the job when it finishes, which wakes it.
//   kBlocked    a thread blocks in BlockingJob::wait(); the job notifies the
//               word when it finishes.
//   kAbandoned  the handle went away before the result was taken: the job is
//               skipped if it has not started; its result is destroyed with
//               the state. Stored by the handle (exchange).
//   kDetached   the handle went away on purpose (detach()): the job runs, its
//               result is dropped.
//   kDone       the job finished; its result is published. Stored once, by
//               the job (exchange), never changed afterwards except by a
//               handle that goes away (kAbandoned/kDetached), which reads
//               nothing after that.
//
// Whoever exchanges a task out of the slot owns its Waker reference: exactly
// one of {the finishing job, the awaiter taking it back} gets it, so a
// completion racing with the suspend either sees the waker (and wakes it) or
// is seen by the awaiter's failed registration (which then does not
// suspend). No wake-up is lost and none is delivered twice.
//
// Memory ordering, pair by pair:
// - the job's exchange(kDone) is acq_rel: its release half publishes the
//   result (and the destruction of the callable) to the handle's acquire
//   loads in ready()/register_waker(); its acquire half pairs with the
//   release CAS that stored a task, so the job may use that Waker.
// - register_waker's CAS is acq_rel (acquire on failure): release pairs with
//   the job's exchange above; acquire, when it finds kDone, with the job's
//   release.
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

#include "executor/task_header.h"
#include "executor/waker.h"

namespace weft {
namespace detail {

class JobBase {
 public:
  static constexpr uintptr_t kEmpty = 0;
  static constexpr uintptr_t kDone = 1;
  static constexpr uintptr_t kAbandoned = 2;
  static constexpr uintptr_t kDetached = 3;
  static constexpr uintptr_t kBlocked = 4;
  // Values at or below this are states; above, a TaskHeader*.
  static constexpr uintptr_t kLastState = kBlocked;

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
    if (waiter_.load(std::memory_order_relaxed) == kAbandoned) {
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

  // --- the handle's side -----------------------------------------------
  bool ready() const noexcept {
    // acquire: pairs with the release half of finish()'s exchange.
    return waiter_.load(std::memory_order_acquire) == kDone;
  }

  // Stores `task` (an owned Waker reference) as the waiter. Returns false
  // (and drops the reference) when the job already finished: the caller must
  // not suspend.
  bool register_waker(TaskHeader* task) noexcept {
    uintptr_t expected = kEmpty;
    // acq_rel: release pairs with finish()'s acquire, which then owns the
    // reference; acquire (also on failure) pairs with finish()'s release of
    // the result when we find kDone.
    // Safety: a TaskHeader is at least 8-aligned and never at an address
    // below kLastState, so the stored word cannot be mistaken for a state;
    // only the exchanges below turn it back into a pointer.
    if (waiter_.compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(task),
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
      return true;
    }
    Waker drop(task);
    if (expected != kDone) misuse("a weft::BlockingJob was awaited by two waiters at once");
    return false;
  }

  // Takes back a waker stored by register_waker (the awaiting frame is being
  // destroyed). If the job already took it, it wakes (or woke) it: a wake of
  // a cancelled task is a no-op.
  void deregister_waker(TaskHeader* task) noexcept {
    uintptr_t expected = reinterpret_cast<uintptr_t>(task);
    // acq_rel: pairs with finish()'s exchange; exactly one side gets the
    // reference. relaxed on failure: we read nothing then.
    if (waiter_.compare_exchange_strong(expected, kEmpty, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
      Waker drop(task);
    }
  }

  // Blocks the calling thread until the job finished (for code that is not
  // a task: destructors handing work to the pool, synchronous callers).
  void wait_blocking() noexcept {
    uintptr_t expected = kEmpty;
    // acq_rel / acquire: as in register_waker.
    if (!waiter_.compare_exchange_strong(expected, kBlocked, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      if (expected == kDone) return;
      misuse("a weft::BlockingJob was waited for by two waiters at once");
    }
    // acquire: pairs with finish()'s release; atomic::wait re-checks the
    // value, so a finish() between the CAS and the wait is not lost.
    while (waiter_.load(std::memory_order_acquire) != kDone) {
      waiter_.wait(kBlocked, std::memory_order_acquire);
    }
  }

  // The handle goes away. `detach`: let the job run, drop its result;
  // otherwise the job is abandoned (skipped if it has not started). Drops
  // the handle's reference.
  void release_handle(bool detach) noexcept {
    // acq_rel: acquire pairs with finish() (we may be the one to free the
    // result) and with register_waker (a task left there is ours to drop);
    // release orders our last reads of the result before the pool thread's
    // unref can free it.
    uintptr_t prev = waiter_.exchange(detach ? kDetached : kAbandoned, std::memory_order_acq_rel);
    // Safety: values above kLastState were stored by register_waker from a
    // TaskHeader* whose reference we now own (see the header comment).
    if (prev > kLastState) Waker drop(reinterpret_cast<TaskHeader*>(prev));
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
    // acq_rel: see the header comment (publishes the result; takes the
    // waiter's registration).
    uintptr_t prev = waiter_.exchange(kDone, std::memory_order_acq_rel);
    if (prev == kBlocked) {
      // The blocked thread holds the handle's reference, so the state stays
      // alive until it returns from wait_blocking().
      waiter_.notify_all();
    } else if (prev > kLastState) {
      // Safety: as in release_handle; the exchange made the reference ours.
      Waker(reinterpret_cast<TaskHeader*>(prev)).wake();
    }
  }

  void unref() noexcept {
    // acq_rel: the usual shared ownership protocol (see header comment).
    // Safety: every Job is made by `new` in BlockingPool::spawn, and the
    // last reference is the last user: nobody touches it after this.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // One reference for the pool (dropped after run()), one for the handle.
  std::atomic<uint32_t> refs_{2};
  std::atomic<uintptr_t> waiter_{kEmpty};
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
  // handle after it saw kDone.
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
