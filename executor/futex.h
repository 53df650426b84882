// futex.h: the two futex calls the Parker sleeps and wakes with, behind the
// atomics seam (executor/atomic.h). A normal build makes the Linux system
// calls on the word's address; the model-checking build (WEFT_RELACY) uses
// Relacy's simulated futex on the same weft::atomic (see atomic_relacy.h).
#ifndef WEFT_EXECUTOR_FUTEX_H_
#define WEFT_EXECUTOR_FUTEX_H_

#include <cstdint>

#include "executor/atomic.h"

#ifndef WEFT_RELACY
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace weft {
namespace detail {

// Sleeps while `*word == expected`. Returns on a wake, at once if the word
// differs (EAGAIN), or spuriously (a signal); the caller re-checks the word.
inline void futex_wait(weft::atomic<uint32_t>* word, uint32_t expected) noexcept {
#ifdef WEFT_RELACY
  word->futex_wait(expected);
#else
  static_assert(sizeof(weft::atomic<uint32_t>) == sizeof(uint32_t));
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
#endif
}

// Wakes at most one thread sleeping in futex_wait on `word`.
inline void futex_wake_one(weft::atomic<uint32_t>* word) noexcept {
#ifdef WEFT_RELACY
  word->futex_wake_one();
#else
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
          0);
#endif
}

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_FUTEX_H_
