// TimerEntry: one armed timer, shared between its owner (a Timer, or a
// sleep) and the reactor's driver thread; and the cache that recycles
// entries, so arming a timer in steady state allocates nothing.
//
// Why a recycled entry, not one embedded in the awaitable. tokio embeds the
// entry in its Sleep and cancels it under the driver's lock: dropping a
// Sleep unlinks it from the wheel there and then. Our wheel belongs to the
// driver thread and takes no lock (reactor.h), so an embedded entry could
// only be freed once the driver has acknowledged the cancel: a destructor
// that waits for another thread, on every cancelled sleep. async-io keeps a
// BTreeMap keyed by (deadline, id) and cancels through a queue of ids; it
// allocates a map node per timer. We keep async-io's "cancel through a
// queue" and tokio's "no allocation": the entry is heap memory that lives
// as long as its last reference, and a dead entry goes to a cache instead
// of back to malloc. In steady state every entry comes from the cache.
//
// 1. The two references (unchanged from the first version).
//   - The owner takes an entry (TimerEntry::create: refs = 2), sets the
//     deadline and pushes it on the reactor's lock-free insert stack; the
//     insert operation carries the driver's reference.
//   - The driver, taking the insert: links a kPending entry in its
//     TimerWheel (the wheel now holds the driver's reference); drops the
//     reference of an entry already cancelled.
//   - When the deadline passes the driver moves kPending -> kFired, closes the
//     waker slot and wakes the Waker it got; win or lose (to a cancel), it
//     drops its reference.
//   - To cancel, the owner first tries to take its insert back: if the
//     insert is still on top of the stack (timer_op_stack.h, unpush), the
//     driver never saw the entry and never will. The owner then holds both
//     references, marks the entry kCancelled (nobody else moves the state
//     of an entry the driver never saw) and drops both: no cancel
//     operation, no driver work, and the entry goes back to the owner's
//     own cache. Otherwise the owner moves kPending -> kCancelled. If that
//     wins, its reference travels with a cancel operation: the driver unlinks the entry
//     if it is still linked (dropping the driver's reference) and drops the
//     owner's. If it loses (already fired), the owner drops its reference.
//   - A Timer's awaiter takes a third reference (under the Timer's lock,
//     while the Timer's own reference keeps the entry alive) for as long as
//     its Waker may sit in the entry's slot; it drops it when it resumes or
//     is destroyed.
//   So each reference is dropped exactly once, in whatever order the
//   operations reach the driver, and nobody touches an entry after dropping
//   their reference.
// 2. The waker slot is an AtomicWaker (executor/atomic_waker.h): the
//   awaiting task registers there (a re-arm moves the Waker to the new
//   entry), the driver closes it when firing, a re-arm or cancel closes the
//   entry it abandons; a registration on a closed slot fails, and the
//   awaiter looks at the timer again instead of suspending.
// 3. Recycling (timer_entry.cc). The thread that drops the last reference
//   (refs 1 -> 0, acq_rel: it sees every other holder's accesses) destroys
//   the entry in place (its Waker, if one is left, is dropped) and keeps
//   the storage:
//   - in its own thread's cache, a plain list, if that holds fewer than
//     kLocalCacheMax entries (a worker that sleeps and frees its own
//     entries reuses them without a single atomic);
//   - otherwise on the shared stack, a Treiber push (release CAS, pairs
//     with the acquire exchange of the thread that takes the stack). The
//     driver, which frees cancelled entries but never creates any, fills
//     its own cache once and then hands everything on this way: it never
//     calls free() on the hot path;
//   - beyond kSharedCacheMax entries on the shared stack, the storage is
//     freed (a burst of a million timers does not stay cached for ever).
//   create() takes from its thread's cache, else takes the whole shared
//   stack with one acquire exchange (no ABA: nobody pops single entries
//   from it), else allocates. A thread's cache goes to the shared stack
//   when the thread exits.
//   Storage in a cache is raw memory, no TimerEntry lives there; create()
//   constructs a fresh one (refs = 2, kPending, empty waker). Under ASan
//   the cached storage is poisoned, so a use after the last unref is still
//   reported.
#ifndef WEFT_REACTOR_TIMER_ENTRY_H_
#define WEFT_REACTOR_TIMER_ENTRY_H_

#include <atomic>
#include <cstddef>
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

  // A fresh entry (kPending, refs = 2: the owner's and the driver's), from
  // the calling thread's cache when it has one. Throws std::bad_alloc only
  // when the caches are empty and the allocation fails.
  static TimerEntry* create();

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
  // Paused time only (reactor/time_control.h): set by the driver before it
  // fires the entry, while the wake it delivers has not been taken yet (the
  // awaiting task has not resumed past its await). While any entry is
  // unsettled, time does not move on: the woken task first runs, and may
  // arm its next timer. Cleared by exactly one exchange (settle()): the
  // resuming owner's, the driver's when nobody waited or a cancel won, or
  // recycle()'s as the last resort.
  std::atomic<bool> unsettled{false};

  bool fired() const noexcept {
    // acquire: pairs with the driver's release CAS to kFired.
    return state.load(std::memory_order_acquire) == kFired;
  }
  // Takes one more reference; the caller must already know the entry alive
  // (it holds a reference, or a lock under which one is held).
  void ref() noexcept {
    // relaxed: the new holder got the pointer through a reference that is
    // already synchronized with; the unref that frees is acq_rel.
    refs.fetch_add(1, std::memory_order_relaxed);
  }
  // Drops `n` references held by the caller (2: an owner that took its
  // insert back holds the driver's as well).
  void unref(uint32_t n = 1) noexcept {
    // acq_rel: release publishes our accesses to the thread that drops the
    // last reference; acquire (for that thread) sees everyone's before it
    // destroys and recycles (a Waker still registered is dropped then).
    if (refs.fetch_sub(n, std::memory_order_acq_rel) == n) recycle(this);
  }

  // Paused time: marks the entry unsettled (driver, before the kFired CAS).
  void mark_unsettled() noexcept;
  // Paused time: the wake is taken (or will never be). One relaxed load
  // when the entry was never marked, i.e. always while time runs.
  void settle() noexcept {
    // relaxed load: whoever calls this has synchronized with the driver's
    // store (through the wake, fired()'s acquire, or the waker slot), or
    // cannot race with it (recycle: the last reference).
    if (unsettled.load(std::memory_order_relaxed)) settle_slow();
  }
  // Fired entries whose wake is not settled yet (paused time).
  static int unsettled_wakes() noexcept;

  // For tests: entries allocated from the heap so far (all threads), and
  // entries the calling thread's cache holds.
  static size_t heap_allocations() noexcept;
  static size_t cached_here() noexcept;

 private:
  TimerEntry() = default;
  void settle_slow() noexcept;
  // Destroys `e` and keeps its storage (timer_entry.cc).
  static void recycle(TimerEntry* e) noexcept;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_TIMER_ENTRY_H_
