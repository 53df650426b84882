// atomic.h: the one seam between the executor's lock-free protocols and the
// atomics they run on.
//
// What it is for: the Parker, Idle, LocalQueue, the LIFO slot, the Injector
// and RootBase use `weft::atomic<T>`, `weft::atomic_thread_fence`,
// `weft::mutex`, `weft::spin_yield()` and the futex of executor/futex.h
// instead of naming std:: directly. A normal build makes these plain
// using-aliases of the standard ones (zero cost: the same types, the same
// code). The model-checking build (-DWEFT_RELACY, see MODEL_CHECKING.md)
// swaps them for Relacy's simulated atomics, mutex and futex, so that Relacy
// explores the interleavings and relaxed-memory outcomes of the *real* code.
//
// Memory orders stay `std::memory_order_*` in the code: the model's atomic
// takes a std::memory_order and translates it. The model's operations have
// no default order, so code routed through here must name every order
// (STYLE habit 3) or the model build does not compile.
//
// Example:
//   weft::atomic<uint32_t> word{0};
//   word.store(1, std::memory_order_release);  // pairs with ... (say which)
#ifndef WEFT_EXECUTOR_ATOMIC_H_
#define WEFT_EXECUTOR_ATOMIC_H_

#ifdef WEFT_RELACY
#include "executor/atomic_relacy.h"
#else

#include <atomic>
#include <mutex>
#include <thread>

namespace weft {

template <class T>
using atomic = std::atomic<T>;
using std::atomic_thread_fence;
using mutex = std::mutex;

// One round of a spin-wait loop that waits for another thread's progress.
inline void spin_yield() noexcept { std::this_thread::yield(); }

}  // namespace weft

#endif  // WEFT_RELACY
#endif  // WEFT_EXECUTOR_ATOMIC_H_
