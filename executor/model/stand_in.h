// A stand-in task for the models: a TaskHeader with no frame whose Scheduler
// counts the schedule() calls its wakes make. The AtomicWaker model registers
// its Wakers in the slot under test; the task model uses one as the task
// that joins. Each Waker is a counted reference to the header (through
// task_state.cc's ref_inc/ref_dec, compiled in the model), so a Waker lost
// or dropped twice shows as Relacy's "memory leak" or "double free" of the
// header once the model drops the header's own reference with drop().
#ifndef WEFT_EXECUTOR_MODEL_STAND_IN_H_
#define WEFT_EXECUTOR_MODEL_STAND_IN_H_

#include <new>

#include "executor/model/model.h"
#include "executor/task_header.h"
#include "executor/waker.h"

namespace weft::detail {

struct StandIn final : Scheduler {
  TaskHeader* h = nullptr;
  weft::atomic<int> woken{0};

  // Allocates the header (refs = 1, the model's own reference) in Relacy's
  // heap, so that its leak and double-free checks cover it.
  void make() {
    h = new (::operator new(sizeof(TaskHeader))) TaskHeader();
    h->scheduler = this;
  }
  // A Waker for the task's current suspension (generation 0: it never runs).
  Waker waker() {
    ref_inc(h);
    return Waker(h, 0);
  }
  // How often it was scheduled. acquire: pairs with schedule()'s release, as
  // taking a task from a run queue sees what the waker wrote before the wake.
  int wakes() const { return woken.load(std::memory_order_acquire); }
  bool was_woken() const { return wakes() != 0; }
  // Drops the model's reference: frees the header if no Waker is left.
  void drop() { ref_dec(h); }

  void schedule(TaskHeader*) noexcept override {
    // release: pairs with the acquire load in wakes() (a run queue's
    // hand-off; the task model's joiner spins on it).
    woken.fetch_add(1, std::memory_order_release);
  }
  void task_done(TaskHeader*) noexcept override {}
};

}  // namespace weft::detail

#endif  // WEFT_EXECUTOR_MODEL_STAND_IN_H_
