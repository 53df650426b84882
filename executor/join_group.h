// JoinSet and JoinGroup: run a group of child tasks inside the task that
// awaits them (internal; the machinery of when_all and when_any).
//
// What it is for: when_all / when_any must work under block_on, which has no
// executor to spawn on, and a task does not know its executor anyway. So the
// children are not spawned: each becomes the root of a task of its own whose
// Scheduler is the group's JoinSet (as Rust's FuturesUnordered / join! do).
// A child's waker pushes it on the set's ready list and wakes the awaiting
// (parent) task; the parent runs ready children inline with run_task() until
// the group is done, suspending on its own waker in between. Children thus
// run on the parent's thread, one at a time, with their own wakers, under any
// executor.
//
// Thread model: only the parent's thread runs, closes or destroys children
// (a child never runs anywhere else), so no child is RUNNING while the
// parent cancels it. Wakes come from any thread: JoinSet's ready list and
// the parent's waker are guarded by its std::mutex.
//
// Cancelling children (the losers of when_any, the rest after a when_all
// child threw, all of them when the parent itself is destroyed), in order:
//   1. close_for_shutdown() each unfinished child. An idle one is now ours:
//      destroy_closed() destroys its frame at once.
//   2. The others were SCHEDULED: they are on the ready list, or a waker
//      that set SCHEDULED is about to push them. run_task() on a CLOSED child
//      destroys its frame; the parent keeps draining the ready list until
//      every child has finished.
//   3. Release the handle reference of every child (handle_release), which
//      also destroys the frames of children that completed.
// So every child frame is destroyed on the parent's thread before the group
// goes away. When the parent is destroyed mid-wait, step 2 cannot suspend:
// it yields the thread until a push that is in flight (a waker between its
// state change and schedule(), a few instructions) lands.
#ifndef WEFT_EXECUTOR_JOIN_GROUP_H_
#define WEFT_EXECUTOR_JOIN_GROUP_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <variant>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/intrusive_fifo.h"
#include "executor/task.h"
#include "executor/task_header.h"
#include "executor/waker.h"

namespace weft {
namespace detail {

// What a child's result becomes in a tuple: void -> std::monostate.
template <class T>
using ResultOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// The Scheduler of a group's children: a ready list and the parent's waker.
class JoinSet final : public Scheduler {
 public:
  JoinSet() = default;
  JoinSet(const JoinSet&) = delete;
  JoinSet& operator=(const JoinSet&) = delete;
  ~JoinSet() = default;

  // A child was woken (any thread): queue it and wake the parent if it
  // waits for one.
  void schedule(TaskHeader* t) noexcept override;
  // The group counts finished children itself.
  void task_done(TaskHeader*) noexcept override {}

  // Parent side: queues a child that is SCHEDULED (new, or rescheduled
  // after it yielded) without waking anyone.
  void push(TaskHeader* t) noexcept;
  // Parent side: the whole ready list (a chain through `next`), or null.
  TaskHeader* take() noexcept;
  // Parent side: the ready list, or, if it is empty, null after storing
  // `parent` to be woken by the next schedule().
  TaskHeader* take_or_register(Waker parent) noexcept;

 private:
  std::mutex mu_;
  // The ready list: children SCHEDULED and not yet taken by the parent.
  IntrusiveFifo<TaskHeader, &TaskHeader::next> ready_ ABSL_GUARDED_BY(mu_);
  // Set only while the parent is suspended waiting for a ready child; taken
  // (and woken once) by the schedule() that ends that wait.
  Waker parent_ ABSL_GUARDED_BY(mu_);
};

class JoinGroup {
 public:
  enum class Mode : uint8_t {
    kAll,  // run until every child finished; the first to throw cancels the rest
    kAny,  // run until one child finished; it cancels the rest
  };
  // The exception a completed child threw, or null (type-erased access to
  // its promise; see when_all.h).
  using ErrorFn = std::exception_ptr (*)(TaskHeader*);
  static constexpr size_t kNone = SIZE_MAX;

  JoinGroup(Mode mode, size_t expected_children);
  // Cancels and destroys the children that have not finished (steps above),
  // then releases them all.
  ~JoinGroup();
  JoinGroup(const JoinGroup&) = delete;
  JoinGroup& operator=(const JoinGroup&) = delete;

  // Adds `task` as the next child (made the root of a task whose Scheduler
  // is the group's JoinSet; SCHEDULED, so its first run is ours to make).
  template <class T>
  void add(Task<T>&& task) {
    add(make_root(std::move(task), &set_), &child_error<T>);
  }

  // Runs the children until the group is done (see Mode). Await it once.
  Task<void> run();

  // After run(): kAny: the child that finished first. kAll: the first child
  // that threw, or kNone.
  size_t decisive() const noexcept { return decisive_; }
  // The decisive child's exception, if it threw.
  const std::exception_ptr& error() const noexcept { return error_; }
  // Moves the result of child `i` (which completed without throwing) out;
  // its frame stays until the group releases it.
  template <class T>
  ResultOf<T> take(size_t i) {
    if constexpr (std::is_void_v<T>) {
      promise_of<T>(children_[i].header).take();
      return std::monostate{};
    } else {
      return promise_of<T>(children_[i].header).take();
    }
  }

 private:
  // The ErrorFn of a Task<T> child that completed.
  template <class T>
  static std::exception_ptr child_error(TaskHeader* h) noexcept {
    auto& p = promise_of<T>(h);
    if (p.has_value()) return nullptr;
    try {
      // Rethrows; nothing is moved out. The cast: a T such as absl::Status
      // is [[nodiscard]], and there is no value here to keep.
      static_cast<void>(p.take());
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  }
  // Adopts a child made root with &set_ and state::kNewRoot (its frame's
  // reference and ours).
  void add(TaskHeader* child, ErrorFn error);

  struct Child {
    TaskHeader* header;
    ErrorFn error;
    bool finished;
  };

  size_t index_of(TaskHeader* t) const noexcept;
  void on_finished(size_t i) noexcept;
  // Step 1 above; sets cancelling_.
  void cancel_unfinished() noexcept;
  // Runs one batch of ready children. Returns whether one asked to yield.
  bool run_batch(TaskHeader* batch) noexcept;

  JoinSet set_;
  std::vector<Child> children_;
  std::vector<std::pair<TaskHeader*, size_t>> by_header_;  // sorted, for index_of
  size_t remaining_ = 0;  // children not finished
  size_t decisive_ = kNone;
  std::exception_ptr error_;
  bool cancelling_ = false;
  const Mode mode_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_JOIN_GROUP_H_
