// ThreadRoot<T>: a task owned and run by one thread (block_on and the main
// task of Executor::run / LocalExecutor::run).
//
// The root is never queued: a wake sets `ready` and unparks the owning
// thread's Parker, and the owner runs the task when it sees `ready`. This is
// how a thread that waits for one task can run other work in the meantime
// and still be woken for it, as smol's block_on does.
#ifndef WEFT_EXECUTOR_THREAD_ROOT_H_
#define WEFT_EXECUTOR_THREAD_ROOT_H_

#include <atomic>
#include <utility>

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
    // release: pairs with the acquire in poll()/ready(); the owner may be
    // parked, so unpark it (a permit is kept if it is not).
    ready_.store(true, std::memory_order_release);
    parker_->unpark();
  }
  void task_done(TaskHeader*) noexcept override {}

 protected:
  ~RootBase() = default;

  TaskHeader* header_ = nullptr;  // set by ThreadRoot's constructor
  Parker* parker_;
  // Set by any thread that wakes the root, cleared by the owner in poll().
  std::atomic<bool> ready_{true};
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
