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
  // acq_rel: the release half publishes has_output and the task's result to
  // the joiner, which acquires in join_register / join_finished; the acquire
  // half makes the waiter's registration visible before we wake it.
  uintptr_t w = h->join.exchange(kJoinNotified, std::memory_order_acq_rel);
  if (w != kJoinEmpty && w != kJoinNotified) {
    auto* waiter = reinterpret_cast<TaskHeader*>(w);
    wake_by_ref(waiter);
    ref_dec(waiter);
  }
}

}  // namespace

void ref_inc(TaskHeader* h) noexcept {
  // relaxed: the caller already holds a reference, so the header cannot go
  // away concurrently; nothing is published by taking another one.
  h->state.fetch_add(kRefOne, std::memory_order_relaxed);
}

void ref_dec(TaskHeader* h) noexcept {
  // acq_rel: the release half orders this holder's last uses of the header
  // before the free; the acquire half (on the last decrement) makes every
  // other holder's released uses visible to the thread that frees.
  uint64_t prev = h->state.fetch_sub(kRefOne, std::memory_order_acq_rel);
  if ((prev >> kRefShift) == 1) {
    // Safety: the last reference is gone, and the frame (which holds one) is
    // already destroyed; the allocation was made by PromiseBase::operator new.
    h->~TaskHeader();
    ::operator delete(static_cast<void*>(h));
  }
}

void wake_by_ref(TaskHeader* h) noexcept {
  // acquire: pairs with the release of the transitions below made by other
  // wakers and by the runner, so the flags we act on are current.
  uint64_t s = h->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (kCompleted | kClosed)) return;  // a late wake is a no-op
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
    // acquire: pairs with wakers' release (see wake_by_ref).
    if (h->state.compare_exchange_weak(s, (s & ~kScheduled) | kRunning,
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
  // Take back a registered waiter (the awaiting task is going away).
  uintptr_t w = h->join.load(std::memory_order_acquire);
  while (w != kJoinEmpty && w != kJoinNotified) {
    // acq_rel: pairs with notify_joiner's exchange; exactly one side gets w.
    if (h->join.compare_exchange_weak(w, kJoinEmpty, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      ref_dec(reinterpret_cast<TaskHeader*>(w));
      break;
    }
  }

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

// The join slot (TaskHeader::join): memory ordering, pair by pair.
//
// 1. notify_joiner's exchange (acq_rel) -> join_register's CAS, on failure
//    (acquire) and join_finished's load (acquire): the release half
//    publishes has_output and the result; the handle reads them only after
//    it saw kJoinNotified with acquire.
// 2. join_register's CAS, on success (release) -> notify_joiner's exchange
//    (acquire): the notifier that takes the waiter sees the registration
//    made by the awaiting thread (the waiter's reference is then its own).
// 3. join_withdraw's CAS (acq_rel) <-> notify_joiner's exchange: both are
//    read-modify-writes of one word, so exactly one of them moves the
//    waiter out of the slot and owns its reference. If withdraw wins, the
//    slot is kJoinEmpty and the notifier, which comes later in the word's
//    modification order, finds no one to wake; a later join_register then
//    fails against kJoinNotified with acquire (pair 1), or registers and is
//    woken by that notifier (pair 2). If the notifier wins, withdraw fails
//    (relaxed: it reads nothing then) and the next await sees kJoinNotified
//    and takes the result at once. Never lost, never delivered twice: the
//    result is taken only by the await that is resumed (or ready) after
//    seeing kJoinNotified.
// 4. join_withdraw's CAS (release) -> the next join_register's CAS
//    (acquire, success or failure): a re-registration from another thread
//    (an await from a different task) is ordered after the withdrawal, so
//    the slot is never seen holding two registrations.
// 5. handle_release's withdrawal follows pair 3 the same way.

bool join_register(TaskHeader* h, TaskHeader* waiter) noexcept {
  uintptr_t expected = kJoinEmpty;
  // acq_rel: release publishes the waiter's header to notify_joiner; acquire
  // (also on failure) pairs with notify_joiner's release of the result.
  if (h->join.compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(waiter),
                                      std::memory_order_acq_rel, std::memory_order_acquire)) {
    return true;
  }
  if (expected != kJoinNotified) {
    std::fprintf(stderr, "weft: a JoinHandle was awaited by two tasks at once\n");
    std::abort();
  }
  ref_dec(waiter);
  return false;
}

void join_withdraw(TaskHeader* h, TaskHeader* waiter) noexcept {
  uintptr_t expected = reinterpret_cast<uintptr_t>(waiter);
  // acq_rel: pair 3 (with notify_joiner's exchange) and pair 4 (with the
  // next join_register) above. relaxed on failure: the notifier took the
  // waiter and owns its reference; we read nothing.
  if (h->join.compare_exchange_strong(expected, kJoinEmpty, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
    ref_dec(waiter);
  }
}

bool join_finished(TaskHeader* h) noexcept {
  // acquire: pairs with notify_joiner's release of the result.
  return h->join.load(std::memory_order_acquire) == kJoinNotified;
}

}  // namespace detail
}  // namespace weft
