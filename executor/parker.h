// Parker: blocks one thread until another unparks it.
//
// What it is for: an idle worker sleeps on its own Parker; whoever hands it
// work calls unpark(). Built on a futex, so an unpark that finds no sleeper
// costs one atomic exchange and no system call.
//
// A thread may also park *in a blocking call of its own choosing*
// (park_in()): the reactor uses this to let an idle task thread sleep in
// epoll_wait as its I/O watcher, so that an fd event wakes the very thread
// that will run the task. unpark() then interrupts that call instead of
// waking the futex.
//
// Guarantees: an unpark() before park() is not lost: the next park() (or
// park_in()) returns at once (a single permit, as std::thread::park in
// Rust). Both may also return spuriously; callers re-check their condition.
//
// Memory ordering: unpark() releases and park() acquires, so what the
// unparking thread wrote before unpark() is visible after park() returns.
//
// Example:
//   weft::detail::Parker p;
//   std::thread t([&] { ready = true; p.unpark(); });
//   while (!ready) p.park();
#ifndef WEFT_EXECUTOR_PARKER_H_
#define WEFT_EXECUTOR_PARKER_H_

#include <cstdint>

#include "executor/atomic.h"

namespace weft {
namespace detail {

// A blocking call that a parked thread makes instead of the futex wait.
class ParkBlocker {
 public:
  // Blocks until interrupt() (or an event of the blocker's own) and returns.
  // May return spuriously.
  virtual void block() noexcept = 0;
  // Makes a block() that is running or about to run return. Any thread.
  virtual void interrupt() noexcept = 0;

 protected:
  ~ParkBlocker() = default;
};

class Parker {
 public:
  void park() noexcept;
  // Parks by calling `blocker.block()`; an unpark() meanwhile calls
  // `blocker.interrupt()`. Returns at once if a permit is pending.
  void park_in(ParkBlocker& blocker) noexcept;
  void unpark() noexcept;

  // Whether the owner is parked in park_in() now (a snapshot, for choosing
  // whom to wake).
  bool in_blocker() const noexcept {
    // relaxed: a hint; unpark() is correct whatever it finds.
    return state_.load(std::memory_order_relaxed) == kParkedInBlocker;
  }

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kParked = 1;
  static constexpr uint32_t kNotified = 2;
  static constexpr uint32_t kParkedInBlocker = 3;
  // kEmpty, kParked (the owner sleeps on the futex or is about to),
  // kParkedInBlocker (the owner is in blocker_->block() or about to), or
  // kNotified (a permit waits). Written by the owner in park()/park_in() and
  // by any thread in unpark().
  weft::atomic<uint32_t> state_{kEmpty};
  // The blocker of the current park_in(); stored by the owner before its
  // release CAS to kParkedInBlocker, loaded by unpark() after its acquire
  // exchange saw that state. Atomic because a slow unpark() may still load
  // it while the owner stores it for a later park_in(); the blocker must
  // then outlive such calls (the reactor's watcher is never destroyed), and
  // a stale one only makes a later block() return early.
  weft::atomic<ParkBlocker*> blocker_{nullptr};
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_PARKER_H_
