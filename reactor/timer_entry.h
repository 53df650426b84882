// TimerEntry: one armed timer, shared between its owner (a Timer, or a
// sleep) and the reactor's driver thread.
//
// Protocol (no lock on the hot path). An entry has two references: the
// owner's and the driver's.
//   - The owner allocates it, sets the deadline and pushes it on the
//     reactor's lock-free insert stack; the insert operation carries the
//     driver's reference.
//   - The driver, taking the insert: links a kPending entry in its
//     TimerWheel (the wheel now holds the driver's reference); drops the
//     reference of an entry already cancelled.
//   - When the deadline passes the driver moves kPending -> kFired, closes the
//     waker slot and wakes the Waker it got; win or lose (to a cancel), it
//     drops its reference.
//   - To cancel, the owner moves kPending -> kCancelled. If that wins, its
//     reference travels with a cancel operation: the driver unlinks the entry
//     if it is still linked (dropping the driver's reference) and drops the
//     owner's. If it loses (already fired), the owner drops its reference.
// So each reference is dropped exactly once, in whatever order the
// operations reach the driver.
//   - The waker slot is an AtomicWaker (executor/atomic_waker.h): the
//     awaiting task registers there (a re-arm moves the Waker to the new
//     entry), the driver closes it when firing, a re-arm or cancel closes
//     the entry it abandons; a registration on a closed slot fails, and
//     the awaiter looks at the timer again instead of suspending.
#ifndef WEFT_REACTOR_TIMER_ENTRY_H_
#define WEFT_REACTOR_TIMER_ENTRY_H_

#include <atomic>
#include <cstdint>

#include "executor/atomic_waker.h"
#include "executor/waker.h"
#include "reactor/timer_wheel.h"

namespace weft {
namespace detail {

// A TimerNode (the wheel's intrusive links) by inheritance, so the driver
// gets from the node back to the entry with a static_cast.
struct TimerEntry : TimerNode {
  static constexpr uint32_t kPending = 0;
  static constexpr uint32_t kFired = 1;
  static constexpr uint32_t kCancelled = 2;

  // The TimerNode base (deadline_ms and links) belongs to the driver thread.
  // Absolute deadline in the reactor's millisecond time base. Written
  // before the entry is pushed (release), read by the driver after taking
  // the stack (acquire), which copies it into the node.
  uint64_t when_ms = 0;
  std::atomic<uint32_t> state{kPending};
  std::atomic<uint32_t> refs{2};
  // The awaiting task's Waker; closed when the entry fires or is
  // abandoned (see above).
  AtomicWaker waker;
  // Links for the reactor's insert and cancel stacks (written by the pusher
  // before its release CAS, read by the driver after its acquire exchange).
  // Two links: an entry cancelled at once sits in both stacks at the same
  // time.
  TimerEntry* next_insert = nullptr;
  TimerEntry* next_cancel = nullptr;

  bool fired() const noexcept {
    // acquire: pairs with the driver's release CAS to kFired.
    return state.load(std::memory_order_acquire) == kFired;
  }
  void unref() noexcept {
    // acq_rel: the last owner frees after everyone's accesses (a Waker
    // still registered is dropped with the entry).
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_TIMER_ENTRY_H_
