// ThreadRoot<T>: a task owned and run by one thread (block_on and the main
// task of Executor::run / LocalExecutor::run).
//
// The root is never queued: a wake sets `ready` and unparks the owning
// thread's Parker, and the owner runs the task when it sees `ready`. This is
// how a thread that waits for one task can run other work in the meantime
// and still be woken for it, as smol's block_on does.
//
// Lifetime: `ready` and the Parker live with the owner (on its stack, or in
// its executor), and the owner may return and free both as soon as the root
// finished. A waker, though, still touches them after it published `ready`:
// it unparks the Parker. So the owner does not let the root go while a
// schedule() is in flight; the protocol, in steps:
//   1. schedule() raises `schedules_in_flight_` (relaxed) before anything
//      else. It is only ever called after the waker moved the task from idle
//      to SCHEDULED, so the owner cannot finish the root before it sees the
//      `ready` that this schedule() stores next: the root is alive here.
//   2. schedule() stores `ready` (release) and unparks the Parker.
//   3. schedule() lowers `schedules_in_flight_` (release): its last touch of
//      the root or the Parker.
//   4. The owner, in ~RootBase (after the root finished and before the
//      Parker can go: every owner declares the Parker, or the executor that
//      holds it, before the root), waits until `schedules_in_flight_` is 0
//      (acquire). It saw the `ready` of every schedule() made for this root
//      (acquire, pairs with step 2), and step 1 is sequenced before that
//      store, so it sees each raise or a later value; the acquire load of 0
//      pairs with step 3, so the waker's unpark happened before the owner
//      frees anything.
// The wait is a few instructions (or one futex wake or eventfd write) long;
// the owner yields its thread meanwhile.
#ifndef WEFT_EXECUTOR_THREAD_ROOT_H_
#define WEFT_EXECUTOR_THREAD_ROOT_H_

#include <cstdint>
#include <utility>

#include "executor/atomic.h"
#include "executor/parker.h"
#include "executor/task.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {

class RootBase : public Scheduler {
 public:
  explicit RootBase(Parker* parker) noexcept : parker_(parker) {}
  RootBase(const RootBase&) = delete;
  RootBase& operator=(const RootBase&) = delete;

  // Whether the root was woken and waits to run.
  bool ready() const noexcept {
    // acquire: pairs with the release store in schedule().
    return ready_.load(std::memory_order_acquire);
  }
  // Runs the root if it was woken. Returns true once it has finished.
  bool poll() noexcept {
    // acquire: pairs with the release store in schedule(); the run itself
    // re-acquires the state word.
    if (!finished_ && ready_.exchange(false, std::memory_order_acquire)) {
      switch (run_task(header_)) {
        case RunResult::kIdle:
          break;
        case RunResult::kReschedule:
          // relaxed: only this thread reads it before the next poll.
          ready_.store(true, std::memory_order_relaxed);
          break;
        case RunResult::kFinished:
          finished_ = true;
          break;
      }
    }
    return finished_;
  }

  void schedule(TaskHeader*) noexcept override {
    // Step 1 (see the top of this file). relaxed: the release store of
    // ready_ below publishes it to the owner.
    schedules_in_flight_.fetch_add(1, std::memory_order_relaxed);
    // Step 2. release: pairs with the acquire in poll()/ready(); the owner
    // may be parked, so unpark it (a permit is kept if it is not).
    ready_.store(true, std::memory_order_release);
    parker_->unpark();
    // Step 3. release: pairs with the acquire load in ~RootBase; after this
    // the owner may free ready_ and the Parker: touch nothing of ours.
    schedules_in_flight_.fetch_sub(1, std::memory_order_release);
  }
  void task_done(TaskHeader*) noexcept override {}

 protected:
  // Step 4: waits out a wake that published `ready` but has not finished
  // unparking yet.
  ~RootBase() {
    // acquire: pairs with the release decrement in schedule().
    while (schedules_in_flight_.load(std::memory_order_acquire) != 0) {
      weft::spin_yield();
    }
  }

  TaskHeader* header_ = nullptr;  // set by ThreadRoot's constructor
  Parker* parker_;
  // Set by any thread that wakes the root, cleared by the owner in poll().
  weft::atomic<bool> ready_{true};
  // schedule() calls between their step 1 and step 3. Raised and lowered by
  // any waking thread; read by the owner in ~RootBase.
  weft::atomic<uint32_t> schedules_in_flight_{0};
  bool finished_ = false;  // owner thread only
};

template <class T>
class ThreadRoot final : public RootBase {
 public:
  ThreadRoot(Task<T>&& task, Parker* parker) : RootBase(parker) {
    // Two references: the frame's and ours (we are the root's handle).
    header_ = make_root(std::move(task), this, state::kNewRoot);
  }
  ~ThreadRoot() {
    if (!header_) return;
    if (!finished_ && close_for_shutdown(header_)) destroy_closed(header_);
    handle_release(header_, /*detach=*/false);
  }

  // The result, or the exception the task threw. Call once, after poll()
  // returned true.
  T take() {
    struct Release {
      TaskHeader*& h;
      ~Release() { handle_release(std::exchange(h, nullptr), false); }
    } release{header_};
    return promise_of<T>(header_).take();
  }
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_THREAD_ROOT_H_
