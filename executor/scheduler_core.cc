#include "executor/scheduler_core.h"

#include <vector>

namespace weft {
namespace detail {

void destroy_chain(TaskHeader* chain) noexcept {
  while (chain) {
    TaskHeader* t = chain;
    chain = t->next;
    t->next = nullptr;
    // The task is CLOSED and SCHEDULED: run_task clears SCHEDULED and
    // destroys the frame instead of resuming it.
    run_task(t);
  }
}

void SchedulerCore::task_done(TaskHeader* t) noexcept {
  // A task taken by shut_down() is counted in refs_ until destroyed.
  if (!live_.remove(t)) release();
}

void SchedulerCore::release() noexcept {
  // acq_rel: release orders this holder's uses of the core before the
  // delete; acquire (on the last drop) sees every other holder's uses.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void SchedulerCore::push_remote(TaskHeader* t) noexcept {
  retain();  // the core must outlive notify_remote() even if shut down now
  if (injector_.push(t)) {
    notify_remote();
  } else {
    // Shut down (step 1 happened): the task was SCHEDULED by the wake that
    // got us here, so nobody else will destroy it. Close it and destroy it.
    // acq_rel: pairs with wake_by_ref's CAS, as in close_for_shutdown.
    t->state.fetch_or(state::kClosed, std::memory_order_acq_rel);
    run_task(t);
  }
  release();
}

void SchedulerCore::shut_down(TaskHeader* queued) noexcept {
  // Step 1.
  TaskHeader* injected = injector_.close();
  // Step 2.
  // Each taken task keeps the core alive until destroyed (see task_done).
  // A racing push may destroy a task (and release its count) as soon as
  // take_all marks it taken, before we know how many there are: hold a
  // large bias across take_all, then trade it for the real count.
  // relaxed: as retain(); we hold the executor's own reference.
  constexpr uint64_t kBias = uint64_t{1} << 40;
  refs_.fetch_add(kBias, std::memory_order_relaxed);
  std::vector<TaskHeader*> live = live_.take_all();
  refs_.fetch_sub(kBias - live.size(), std::memory_order_relaxed);
  std::vector<TaskHeader*> idle;
  for (TaskHeader* t : live) {
    if (close_for_shutdown(t)) idle.push_back(t);
  }
  // Step 3.
  for (TaskHeader* t : idle) destroy_closed(t);
  destroy_chain(injected);
  destroy_chain(queued);
  for (TaskHeader* t : live) ref_dec(t);  // the references take_all gave us
}

}  // namespace detail
}  // namespace weft
