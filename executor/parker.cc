#include "executor/parker.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace weft {
namespace detail {
namespace {

void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) noexcept {
  // Returns on wake, on EAGAIN (the word changed), or on a signal; the caller
  // re-checks the word in every case.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake_one(std::atomic<uint32_t>* word) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
          0);
}

}  // namespace

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

void Parker::unpark() noexcept {
  // release: pairs with the acquire in park() that consumes the permit.
  if (state_.exchange(kNotified, std::memory_order_release) == kParked) {
    futex_wake_one(&state_);
  }
}

}  // namespace detail
}  // namespace weft
