// The header every weft task carries, and the state word that governs it.
//
// What it is for: a spawned task must be schedulable, wakeable and
// cancellable from any thread without knowing its result type. The header is
// the type-erased part of a task. It sits in the same allocation as the
// coroutine frame, just before it (see PromiseBase::operator new in task.h),
// so spawning costs one heap allocation, and it can outlive the frame: the
// frame's contents are destroyed when the task completes or is cancelled, the
// memory is freed when the last reference (waker, JoinHandle) goes away.
//
// The state word (bits, each with when it may be set and cleared):
//
//   SCHEDULED  The task is in a run queue, or a waker is about to push it, or
//              it was woken while RUNNING and must run again. Set only by a
//              wake (or by cancellation of an idle task, to get its frame
//              destroyed by its executor). Cleared by the runner when it
//              starts a run, or when the task completes.
//   RUNNING    A thread is resuming the coroutine. Set by the runner with
//              SCHEDULED cleared in the same step; cleared when the resume
//              returns. While RUNNING a wake only sets SCHEDULED; the runner
//              pushes the task again after the run. Never set once COMPLETED
//              or CLOSED.
//   COMPLETED  The coroutine finished; its result (or exception) is in the
//              frame, and the runner no longer touches the frame. Set once,
//              never cleared.
//   CLOSED     The task will not run again: it was cancelled, its executor was
//              destroyed, or its result was taken. A wake is then a no-op.
//              Set once, never cleared.
//   HANDLE     A JoinHandle (or the thread that block_on's the task) still
//              wants the result. Cleared on detach or when the handle goes.
//
// The bits above bit kGenShift are the run generation: the runner adds
// kGenOne in the same compare-and-swap that sets RUNNING, so every run of
// the task has its own number. A Waker records the generation of the run it
// was taken in, and a wake whose generation is not the current one is a
// no-op (waker.h): a Waker is good for the suspension that follows the run
// it was taken in, and for nothing later. 56 bits: it does not wrap in the
// life of a process (a run per nanosecond would take over two years).
//
// `refs` counts references to the header: one for the live frame, one per
// Waker, one for the JoinHandle. The frame reference is dropped when the
// frame is destroyed; the memory is freed at zero.
//
// Who destroys the frame (exactly once): the runner, when it finds CLOSED at
// the start or end of a run, or when the task completes with no HANDLE; the
// JoinHandle, when it goes away and the task is COMPLETED and not RUNNING; an
// executor's destructor, for tasks that are neither scheduled nor running.
#ifndef WEFT_EXECUTOR_TASK_HEADER_H_
#define WEFT_EXECUTOR_TASK_HEADER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "executor/atomic.h"
#include "executor/atomic_waker.h"

namespace weft {
namespace detail {

struct TaskHeader;
class DeferredOp;  // coop.h

// The executor-specific half of a task: where a woken task goes.
class Scheduler {
 public:
  // `task` was just transitioned to SCHEDULED from idle: push it on a queue.
  // Called from any thread.
  virtual void schedule(TaskHeader* task) noexcept = 0;
  // `task` completed or was destroyed as cancelled: the scheduler forgets it
  // (e.g. removes it from the list an executor keeps for its destructor).
  // Called exactly once per spawned task, by the thread that finished it.
  virtual void task_done(TaskHeader* task) noexcept = 0;

 protected:
  ~Scheduler() = default;
};

namespace state {
inline constexpr uint64_t kScheduled = 1u << 0;
inline constexpr uint64_t kRunning = 1u << 1;
inline constexpr uint64_t kCompleted = 1u << 2;
inline constexpr uint64_t kClosed = 1u << 3;
inline constexpr uint64_t kHandle = 1u << 4;
inline constexpr int kGenShift = 8;
inline constexpr uint64_t kGenOne = uint64_t{1} << kGenShift;
inline constexpr uint64_t kFlagsMask = kGenOne - 1;
inline constexpr uint64_t kGenMask = ~kFlagsMask;
// A root just spawned or rooted: a handle that wants the result, and
// scheduled to run (make_root also sets two references: the frame's and
// the handle's).
inline constexpr uint64_t kNewRoot = kHandle | kScheduled;
}  // namespace state

struct TaskHeader {
  // Flags and run generation (see above). Atomic: read and written by every
  // thread that wakes, runs, joins or cancels the task.
  weft::atomic<uint64_t> state{0};

  // References to the header (see above). Any holder increments (relaxed)
  // or decrements (acq_rel); the last decrement frees.
  weft::atomic<uint32_t> refs{1};  // the frame's own reference

  // The shard of the live-task list this task is on (executor-private).
  // Written under that shard's lock; read before taking it (relaxed) to
  // know which lock to take, then re-read under it. Beside refs, which
  // leaves it no padding.
  weft::atomic<uint32_t> live_shard{0};

  // Set once when the task is spawned or rooted, before it is published to
  // any other thread; read-only afterwards. Null for a task that is only
  // ever awaited by another task.
  Scheduler* scheduler = nullptr;

  // Intrusive link for the queue that holds the task while SCHEDULED. Owned
  // by that queue (written under its lock or by its single owner thread).
  TaskHeader* next = nullptr;

  // Intrusive links for the executor's list of live tasks. Written only
  // under that list's lock.
  TaskHeader* live_prev = nullptr;
  TaskHeader* live_next = nullptr;

  // Which coroutine of the task's await chain to resume next. Written by the
  // thread running the task (when a child starts or returns); read by the
  // next runner, which acquires the state word after the writer released it.
  // In the header of a frame that is awaited (a child, never a root), the
  // frame of its parent instead: where final_suspend returns to, and the
  // destroy walk's upward link (task.h, start_as_child).
  std::coroutine_handle<> resume_point;

  // A leaf await's operation deferred by a cooperative-budget yield (see
  // coop.h), or null. Written by the thread running the task, just before
  // the run ends; read and cleared by the next runner before it resumes
  // anything (published like resume_point, by the state word). Points into
  // the suspended frame, so it is never read once the frame is destroyed.
  DeferredOp* deferred_op = nullptr;

  // Where the task was spawned (the caller of spawn, captured by its
  // default argument); empty for a task that was never spawned (a run's
  // main, an awaited child). Written once before the task is published to
  // other threads (like scheduler), read by Executor::dump() under the
  // live list's lock.
  std::source_location spawned_at;

  // The waiter of the JoinHandle's await (an AtomicWaker: registered by
  // the await, withdrawn if that await is cancelled). Closed once, when the task finishes (completes or is destroyed
  // as cancelled), after has_output and the result are written: the close
  // publishes them (see "The join slot" in task_state.cc).
  // [[no_unique_address]]: the flags below live in its tail padding, which
  // keeps the header at 96 bytes with spawned_at (static_assert below).
  [[no_unique_address]] AtomicWaker join;

  // Written by the runner before it closes `join` (release), read by the
  // handle after it sees `join` closed (acquire): whether the frame holds a
  // result (true) or the task was cancelled (false).
  bool has_output = false;

  // Set by the root coroutine's final_suspend, on the running thread, and
  // read by the same thread when resume() returns.
  bool finished_in_run = false;

  // Set (on the running thread) when a coroutine of the chain suspended only
  // to pass control to another one (a child starting, or returning to its
  // parent): the runner then resumes resume_point at once. This trampoline
  // gives symmetric transfer in constant stack without relying on the
  // compiler turning resumes into tail calls (g++ does not at -O0 or under
  // AddressSanitizer).
  bool transfer = false;

  // Only for a frame that is awaited as a child (never for a task's root):
  // set by the destroy walk (task.h, destroy_owned_frame) just before it
  // destroys the frame ahead of the Task that owns it. The frame's memory
  // then stays allocated until that Task lets go of it, so the Task can see
  // the frame is gone. Written and read by the thread destroying the chain.
  bool frame_destroyed = false;
};
#ifndef WEFT_RELACY
// Six words of links and pointers, the state word, two counters, the
// spawn location, the join slot with the four flags in its tail: 96 bytes,
// the frame's offset (kHeaderPrefix) that keeps frames in their malloc
// size class. Under Relacy the atomics are bigger.
static_assert(sizeof(TaskHeader) == 96, "TaskHeader grew: check its packing");
#endif

// Frames follow their header at this offset, which keeps the frame aligned
// as operator new would.
inline constexpr size_t kHeaderPrefix =
    (sizeof(TaskHeader) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);

inline void* frame_of(TaskHeader* h) noexcept {
  return reinterpret_cast<char*>(h) + kHeaderPrefix;
}
inline TaskHeader* header_of_frame(void* frame) noexcept {
  // Safety: every weft coroutine frame is allocated by PromiseBase::operator
  // new, which places a TaskHeader kHeaderPrefix bytes before it.
  return reinterpret_cast<TaskHeader*>(static_cast<char*>(frame) - kHeaderPrefix);
}

// --- reference counting -------------------------------------------------
void ref_inc(TaskHeader* h) noexcept;
// Drops one reference; frees the allocation at zero.
void ref_dec(TaskHeader* h) noexcept;

// --- waking -------------------------------------------------------------
// Schedules the task unless it is already scheduled, completed or closed,
// or `generation` (state bits under kGenMask) is not its current run's.
void wake_by_ref(TaskHeader* h, uint64_t generation) noexcept;
// The generation of the run in progress. Only the thread running the task
// may ask (the runner alone changes it, at the start of a run).
inline uint64_t running_generation(const TaskHeader* h) noexcept {
  // relaxed: the generation bits were last written by this thread (its
  // run's start); other threads change only flag bits.
  return h->state.load(std::memory_order_relaxed) & state::kGenMask;
}

// --- running (executors) ------------------------------------------------
enum class RunResult {
  kIdle,        // suspended, waiting for a wake
  kReschedule,  // woken while running (or yielded): push it again
  kFinished,    // completed or destroyed: forget it
};
// Runs one step of a scheduled task: resumes it, or destroys its frame if it
// was closed. The caller took the task off a queue (it was SCHEDULED).
RunResult run_task(TaskHeader* h) noexcept;

// Destroys the frame of a task that was closed while idle or queued, and
// notifies its joiner. Used by executors tearing down. The caller must have
// exclusive ownership of the frame (task CLOSED and not RUNNING).
void destroy_closed(TaskHeader* h) noexcept;

// Marks the task CLOSED. Returns true when the task was idle (neither
// scheduled, running, completed nor closed): the caller then owns the frame
// and must destroy it (destroy_closed) or schedule it.
bool close_for_shutdown(TaskHeader* h) noexcept;

// --- the handle side ----------------------------------------------------
// Called when the JoinHandle goes away. With `detach`, the task runs on;
// otherwise it is cancelled: its frame is destroyed at its next suspension
// point (now, through its scheduler, if it is idle).
void handle_release(TaskHeader* h, bool detach) noexcept;
// Requests cancellation but keeps the handle: the join slot is notified once
// the frame is gone or the task completed.
void handle_cancel(TaskHeader* h) noexcept;

// Join-slot protocol for the handle's awaiter (TaskHeader::join). Returns
// false (and drops `waiter`) when the task already finished.
bool join_register(TaskHeader* h, Waker waiter) noexcept;
// Takes back a registration made by join_register, because the await that
// made it is being destroyed without having been resumed (its task was
// cancelled, e.g. the loser of a when_any / timeout). If the task finished
// meanwhile, the notifier took the waiter instead and woke it (a wake of a
// cancelled task is a no-op); either way the slot is free for a later await.
void join_withdraw(TaskHeader* h) noexcept;
bool join_finished(TaskHeader* h) noexcept;

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_TASK_HEADER_H_
