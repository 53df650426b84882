// Injector: an executor's shared FIFO of tasks, for spawns and wakes from
// threads that are not its workers, and for local-queue overflow.
//
// A mutex-guarded intrusive list (no allocation per push), with an atomic
// length so workers check for work without taking the lock. Once closed (the
// executor is being destroyed) it accepts nothing: push returns false and the
// caller destroys the task itself.
#ifndef WEFT_EXECUTOR_INJECTOR_H_
#define WEFT_EXECUTOR_INJECTOR_H_

#include <cstddef>

#include <mutex>
#include "base/intrusive_fifo.h"
#include "executor/atomic.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {

class Injector {
 public:
  // Appends the chain first..last (linked through next, `count` tasks).
  // Returns false, taking nothing, once closed.
  bool push_batch(TaskHeader* first, TaskHeader* last, size_t count) noexcept;
  bool push(TaskHeader* t) noexcept {
    t->next = nullptr;
    return push_batch(t, t, 1);
  }
  TaskHeader* pop() noexcept;
  // Pops up to `max` tasks as a chain via next (null when empty).
  TaskHeader* pop_batch(size_t max, size_t* count) noexcept;

  // Closes the injector and returns everything it held (a chain via next).
  TaskHeader* close() noexcept;

  // A lock-free snapshot.
  bool is_empty() const noexcept { return len() == 0; }
  size_t len() const noexcept {
    // acquire: pairs with the release stores under the lock, so a non-zero
    // length means the pushed tasks are visible once we take the lock.
    return len_.load(std::memory_order_acquire);
  }

 private:
  mutable weft::mutex mu_;
  IntrusiveFifo<TaskHeader, &TaskHeader::next> queue_;  // guarded by mu_
  bool closed_ = false;  // guarded by mu_
  // Written under mu_, read without it (a hint for idle workers).
  weft::atomic<size_t> len_{0};
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_INJECTOR_H_
