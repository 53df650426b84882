// The task state machine: every transition of TaskHeader::state lives here.
// See task_header.h for what each bit means and who owns the frame when.
#include <cstdio>
#include <cstdlib>
#include <new>

#include "executor/coop.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {
namespace {

using namespace state;

void destroy_frame(TaskHeader* h) noexcept {
  // Safety: the caller owns the frame (see "Who destroys the frame" in
  // task_header.h), and the frame is suspended (initial, final, or at an
  // await), so destroying it is allowed. Destruction runs the destructors of
  // everything the task held, which deregisters whatever it waited on, then
  // PromiseBase::operator delete drops the frame's reference to the header.
  std::coroutine_handle<>::from_address(frame_of(h)).destroy();
}

// Wakes whoever awaits the task's JoinHandle. The caller keeps a reference
// to `h` across the call.
void notify_joiner(TaskHeader* h) noexcept {
  // close() publishes has_output and the task's result to the joiner (pair
  // 1 of "The join slot" below) and hands us the registered waiter.
  h->join.close().wake();
}

}  // namespace

void ref_inc(TaskHeader* h) noexcept {
  // relaxed: the caller already holds a reference, so the header cannot go
  // away concurrently; nothing is published by taking another one.
  h->refs.fetch_add(1, std::memory_order_relaxed);
}

void ref_dec(TaskHeader* h) noexcept {
  // acq_rel: the release half orders this holder's last uses of the header
  // before the free; the acquire half (on the last decrement) makes every
  // other holder's released uses visible to the thread that frees.
  if (h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Safety: the last reference is gone, and the frame (which holds one) is
    // already destroyed; the allocation was made by PromiseBase::operator new.
    h->~TaskHeader();
    ::operator delete(static_cast<void*>(h));
  }
}

void wake_by_ref(TaskHeader* h, uint64_t generation) noexcept {
  // acquire: pairs with the release of the transitions below made by other
  // wakers and by the runner, so the flags we act on are current.
  uint64_t s = h->state.load(std::memory_order_acquire);
  for (;;) {
    // A late wake is a no-op: after completion or cancellation, or once the
    // task has started another run (a Waker kept from an earlier
    // suspension). The CASes below fail if a run starts meanwhile, since
    // that changes the generation bits they expect.
    if ((s & kGenMask) != generation || (s & (kCompleted | kClosed))) return;
    if (s & kScheduled) {
      // Already queued (or running with a re-run pending). Still publish our
      // writes: an unchanged read-modify-write with release joins the
      // release sequence that the runner acquires when it starts the run.
      if (h->state.compare_exchange_weak(s, s, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return;
      }
      continue;
    }
    // acq_rel: release publishes the waker's writes to the runner (which
    // acquires in run_task); acquire orders us after the previous run.
    if (h->state.compare_exchange_weak(s, s | kScheduled, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      // While RUNNING the runner sees SCHEDULED after the run and pushes it.
      if (!(s & kRunning)) h->scheduler->schedule(h);
      return;
    }
  }
}

void destroy_closed(TaskHeader* h) noexcept {
  ref_inc(h);  // keep the header alive past the frame for the notification
  h->scheduler->task_done(h);
  h->has_output = false;
  destroy_frame(h);
  notify_joiner(h);
  ref_dec(h);
}

RunResult run_task(TaskHeader* h) noexcept {
  // acquire: pairs with the release of the wake that scheduled the task, so
  // the task sees everything its waker wrote.
  uint64_t s = h->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & kClosed) {
      // Cancelled while queued: destroy instead of running.
      if (h->state.compare_exchange_weak(s, s & ~kScheduled, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        destroy_closed(h);
        return RunResult::kFinished;
      }
      continue;
    }
    // acquire: pairs with wakers' release (see wake_by_ref). The run gets
    // a new generation in the same step: Wakers of earlier suspensions are
    // stale from now on (task_header.h).
    if (h->state.compare_exchange_weak(s, ((s & ~kScheduled) | kRunning) + kGenOne,
                                       std::memory_order_acquire, std::memory_order_acquire)) {
      break;
    }
  }

  h->finished_in_run = false;
  // Every run of a task passes here: the run gets a fresh cooperative
  // budget (coop.h), unless it is nested in another run on this thread
  // (when_all's children), whose budget it shares.
  CoopRunScope budget;
  // An await that yielded for the budget does its operation first; if that
  // queued a waiter, the task stays suspended and nothing is resumed. Like a
  // resume, this touches the frame, which RUNNING gives us alone; the
  // pointer was published with resume_point.
  bool resume = true;
  if (DeferredOp* op = h->deferred_op) [[unlikely]] {
    h->deferred_op = nullptr;
    resume = op->run();
  }
  if (resume) {
    do {
      h->transfer = false;
      // Safety: we set RUNNING, so no other thread resumes or destroys the
      // frame until we clear it; resume_point was written by the previous
      // runner before its release of the state word, which our CAS acquired
      // (or by this thread, in the previous turn of this loop).
      h->resume_point.resume();
    } while (h->transfer);
  }

  if (h->finished_in_run) {
    s = h->state.load(std::memory_order_relaxed);
    // With a handle, the handle may destroy the frame (and drop the last
    // reference) as soon as COMPLETED shows: hold the header until we are
    // done. Without one (detached), HANDLE cannot come back, the frame is
    // ours, and nobody waits on the join slot: skip both.
    const bool joined = s & kHandle;
    if (joined) ref_inc(h);
    uint64_t next;
    do {
      next = (s & ~(kRunning | kScheduled)) | kCompleted;
      if (!(s & kHandle)) next |= kClosed;
      // acq_rel: release publishes the result to a handle that acquires
      // COMPLETED in handle_release; acquire sees a concurrent cancel.
    } while (!h->state.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                             std::memory_order_relaxed));
    // Cancelled during the last run, or nobody wants the result: drop it.
    const bool discard = (s & kClosed) || !(s & kHandle);
    h->scheduler->task_done(h);
    if (!joined) {
      destroy_frame(h);  // may free the header: touch nothing after
      return RunResult::kFinished;
    }
    h->has_output = !discard;
    if (discard) destroy_frame(h);
    notify_joiner(h);
    ref_dec(h);
    return RunResult::kFinished;
  }

  s = h->state.load(std::memory_order_relaxed);
  for (;;) {
    if (s & kClosed) {
      // Cancelled while running: the frame goes at this suspension point.
      if (h->state.compare_exchange_weak(s, s & ~(kRunning | kScheduled),
                                         std::memory_order_acq_rel, std::memory_order_relaxed)) {
        destroy_closed(h);
        return RunResult::kFinished;
      }
      continue;
    }
    // release: publishes this run's writes (resume_point, the frame) to the
    // next runner, which acquires when it sets RUNNING again.
    if (h->state.compare_exchange_weak(s, s & ~kRunning, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
      return (s & kScheduled) ? RunResult::kReschedule : RunResult::kIdle;
    }
  }
}

bool close_for_shutdown(TaskHeader* h) noexcept {
  uint64_t s = h->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (kClosed | kCompleted)) return false;
    // acq_rel: pairs with wake_by_ref's CAS; after this a wake is a no-op.
    if (h->state.compare_exchange_weak(s, s | kClosed, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      return !(s & (kScheduled | kRunning));
    }
  }
}

void handle_release(TaskHeader* h, bool detach) noexcept {
  // No await of the handle is registered here: an await's Registration
  // withdraws (JoinHandle's awaiters are destroyed before the handle they
  // refer to, and JoinHandle::reset withdraws one that is not). Skipping it
  // keeps detach() free of read-modify-writes of the join slot.

  uint64_t s = h->state.load(std::memory_order_acquire);
  bool destroy = false;
  bool push = false;
  for (;;) {
    uint64_t next = s & ~kHandle;
    destroy = false;
    push = false;
    if (s & kCompleted) {
      if (!(s & kClosed)) {  // the result is still in the frame: ours to drop
        next |= kClosed;
        destroy = true;
      }
    } else if (!(s & kClosed) && !detach) {
      next |= kClosed;
      if (!(s & (kScheduled | kRunning))) {
        // Idle: have its executor destroy it, on the executor's thread.
        next |= kScheduled;
        push = true;
      }
    }
    // acq_rel: acquire pairs with the runner's COMPLETED release (we may
    // destroy the result); release pairs with the runner's acquire of CLOSED.
    if (h->state.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      break;
    }
  }
  if (destroy) destroy_frame(h);
  if (push) h->scheduler->schedule(h);
  ref_dec(h);
}

void handle_cancel(TaskHeader* h) noexcept {
  uint64_t s = h->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (kCompleted | kClosed)) return;
    const bool idle = !(s & (kScheduled | kRunning));
    uint64_t next = s | kClosed | (idle ? kScheduled : 0);
    // acq_rel: as in handle_release.
    if (h->state.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      if (idle) h->scheduler->schedule(h);
      return;
    }
  }
}

// The join slot (TaskHeader::join, an AtomicWaker): memory ordering, pair
// by pair.
//
// 1. notify_joiner's close (release) -> join_register's failing register
//    (acquire) and join_finished's closed() (acquire): the runner writes
//    has_output and the result before it closes; the handle reads them
//    only after it saw the slot closed.
// 2. join_register's registration (release) -> notify_joiner's close
//    (acquire): the notifier that takes the waiter sees it whole.
// 3. join_withdraw <-> notify_joiner's close:
//    the AtomicWaker gives the waiter to exactly one of them. If withdraw
//    wins, the notifier finds no one to wake; if the notifier wins, it
//    wakes a task whose await is being destroyed (a no-op), and a later
//    await sees the slot closed and takes the result at once. Never lost,
//    never delivered twice: the result is taken only by an await that saw
//    the slot closed.
// 4. A withdrawal (release) -> the next registration (acquire), from
//    another task or thread: the slot is never seen holding two.

bool join_register(TaskHeader* h, Waker waiter) noexcept {
  return h->join.register_waker(std::move(waiter));
}

void join_withdraw(TaskHeader* h) noexcept { h->join.withdraw(); }

bool join_finished(TaskHeader* h) noexcept {
  // acquire (inside closed()): pairs with notify_joiner's close.
  return h->join.closed();
}

}  // namespace detail
}  // namespace weft
