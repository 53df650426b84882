#include "executor/parker.h"

#include "executor/futex.h"

namespace weft {
namespace detail {

void Parker::park() noexcept {
  // Fast path: consume a pending permit. acquire: pairs with unpark()'s
  // release exchange.
  uint32_t expected = kNotified;
  if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
    return;
  }
  // relaxed on failure of the exchange below is fine: a kNotified there is
  // re-read with acquire in the loop.
  expected = kEmpty;
  if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
    // A permit arrived in between: consume it. acquire: pairs with unpark().
    state_.exchange(kEmpty, std::memory_order_acquire);
    return;
  }
  for (;;) {
    futex_wait(&state_, kParked);
    expected = kNotified;
    // acquire: pairs with unpark()'s release, publishing the unparker's writes.
    if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    // Spurious wake-up: still kParked; sleep again.
  }
}

void Parker::park_in(ParkBlocker& blocker) noexcept {
  uint32_t expected = kNotified;
  // acquire: pairs with unpark()'s exchange, as in park().
  if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
    return;
  }
  // relaxed: published by the release CAS below.
  blocker_.store(&blocker, std::memory_order_relaxed);
  expected = kEmpty;
  // release: publishes blocker_ to the unpark() that sees kParkedInBlocker.
  if (!state_.compare_exchange_strong(expected, kParkedInBlocker, std::memory_order_release,
                                      std::memory_order_relaxed)) {
    state_.exchange(kEmpty, std::memory_order_acquire);  // a permit arrived: take it
    return;
  }
  // One call: block() returns on its own events, on interrupt(), or
  // spuriously; each is a (possibly spurious) return from park.
  blocker.block();
  // Leave the parked state. We find kParkedInBlocker (nobody unparked us) or
  // kNotified (an unpark came, and it interrupts or interrupted the blocker:
  // a late interrupt only makes some later block() return early). acquire:
  // pairs with unpark()'s exchange.
  state_.exchange(kEmpty, std::memory_order_acquire);
}

void Parker::unpark() noexcept {
  // acq_rel: release pairs with the acquire in park()/park_in() that
  // consumes the permit; acquire pairs with park_in()'s release CAS, so
  // blocker_ is the current one.
  switch (state_.exchange(kNotified, std::memory_order_acq_rel)) {
    case kParked:
      futex_wake_one(&state_);
      break;
    case kParkedInBlocker:
      // relaxed: ordered by the acquire half of the exchange above.
      blocker_.load(std::memory_order_relaxed)->interrupt();
      break;
    default:
      break;
  }
}

}  // namespace detail
}  // namespace weft
