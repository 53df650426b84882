// atomic_relacy.h: the model-checking side of executor/atomic.h. Included
// only when WEFT_RELACY is defined (the //executor/model tests); never in a
// normal build.
//
// Relacy (Debian's relacy-dev, /usr/include/relacy) runs the threads of a
// test as fibers and explores their interleavings, simulating the C++11
// memory model (a relaxed load may return any value the model allows). Its
// classic API wants a debug-info argument (`$`) on every atomic operation,
// and relacy.hpp #defines `memory_order_acquire`, `new`, `assert`, `errno`
// and friends so that unmodified code passes it. Those macros break the
// standard headers included after them, so this file includes Relacy's parts
// without relacy.hpp's macro block and wraps rl::atomic instead: each
// operation takes a std::memory_order and records its caller's
// std::source_location as the debug info, which is what Relacy prints in a
// failing trace.
//
// What the model does not see: plain memory is not tracked unless a test
// wraps it in rl::var (the models do that for the payloads they hand over),
// and allocation goes to the ordinary operator new (Relacy's leak and
// double-free checks are not used).
#ifndef WEFT_EXECUTOR_ATOMIC_RELACY_H_
#define WEFT_EXECUTOR_ATOMIC_RELACY_H_

#ifndef WEFT_RELACY
#error "atomic_relacy.h is the model-checking build's; include executor/atomic.h"
#endif

#include <atomic>  // std::memory_order only
#include <cstddef>
#include <cstdint>
#include <source_location>

// relacy.hpp minus its macro block (see above) and minus the Win32/pthread
// emulation, which #defines pthread_* names that <thread> needs. (The
// semaphore and event are needed by Relacy's context.)
#include <relacy/base.hpp>
#include <relacy/context.hpp>
#include <relacy/context_base_impl.hpp>
#include <relacy/backoff.hpp>
#include <relacy/atomic_fence.hpp>
#include <relacy/atomic.hpp>
#include <relacy/var.hpp>
#include <relacy/test_suite.hpp>
#include <relacy/dyn_thread.hpp>
#include <relacy/stdlib/mutex.hpp>
#include <relacy/stdlib/condition_variable.hpp>
#include <relacy/stdlib/semaphore.hpp>
#include <relacy/stdlib/event.hpp>

// Relacy replaces the global operator new/delete (context.hpp) so that it
// can track what a model allocates, but not the sized deletes of C++14,
// which the compiler calls for most deletes: those would reach the
// original (or ASan's) delete with memory from Relacy's new. Route them to
// Relacy's unsized delete, as Relacy itself declares its replacements.
inline void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
inline void operator delete[](void* p, std::size_t) noexcept { ::operator delete[](p); }

namespace weft {
namespace model {

inline rl::memory_order to_rl(std::memory_order mo) noexcept {
  switch (mo) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    case std::memory_order_seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

inline rl::debug_info info(const std::source_location& at) noexcept {
  return rl::debug_info(at.function_name(), at.file_name(), at.line());
}

using Here = std::source_location;

}  // namespace model

// The subset of std::atomic<T> the executor uses, on rl::atomic<T>. No
// operator=, no implicit conversions, no default orders.
template <class T>
class atomic {
 public:
  // std::atomic<T> value-initialises since C++20; so does the model.
  atomic() noexcept : a_(T()) {}
  atomic(T v) noexcept : a_(v) {}  // NOLINT: mirrors std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order mo, model::Here at = model::Here::current()) const {
    return a_.load(model::to_rl(mo), model::info(at));
  }
  void store(T v, std::memory_order mo, model::Here at = model::Here::current()) {
    a_.store(v, model::to_rl(mo), model::info(at));
  }
  T exchange(T v, std::memory_order mo, model::Here at = model::Here::current()) {
    return a_.exchange(v, model::to_rl(mo), model::info(at));
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure,
                               model::Here at = model::Here::current()) {
    return a_.compare_exchange_strong(expected, desired, model::to_rl(success), model::info(at),
                                      model::to_rl(failure), model::info(at));
  }
  // Relacy lets a weak CAS fail spuriously, as hardware may.
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure, model::Here at = model::Here::current()) {
    return a_.compare_exchange_weak(expected, desired, model::to_rl(success), model::info(at),
                                    model::to_rl(failure), model::info(at));
  }
  template <class D>
  T fetch_add(D d, std::memory_order mo, model::Here at = model::Here::current()) {
    return a_.fetch_add(d, model::to_rl(mo), model::info(at));
  }
  template <class D>
  T fetch_sub(D d, std::memory_order mo, model::Here at = model::Here::current()) {
    return a_.fetch_sub(d, model::to_rl(mo), model::info(at));
  }

  T fetch_or(T v, std::memory_order mo, model::Here at = model::Here::current()) {
    return a_.fetch_or(v, model::to_rl(mo), model::info(at));
  }
  T fetch_and(T v, std::memory_order mo, model::Here at = model::Here::current()) {
    return a_.fetch_and(v, model::to_rl(mo), model::info(at));
  }

  // std::atomic<T>::wait / notify_all (the AtomicWaker's wait_closed), on
  // the same futex model: wait loads with `mo` and sleeps while the value is
  // `old`, as one step; it may return spuriously (callers re-check, as
  // std's wait does internally).
  void wait(T old, std::memory_order mo, model::Here at = model::Here::current()) const {
    rl::context& c = rl::ctx();
    c.sched();
    // The kernel compares against the current value: a full fence, as in
    // futex_wait below (without it the model may sleep on a stale value).
    c.atomic_thread_fence_seq_cst();
    T now;
    {
      rl::preemption_disabler no_switch(c);
      now = a_.load(model::to_rl(mo), model::info(at));
    }
    if (now != old) return;
    a_.wait(c, /*is_timed=*/false, /*allow_spurious_wakeup=*/true, model::info(at));
  }
  void notify_all(model::Here at = model::Here::current()) {
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    a_.wake(c, rl::thread_id_t(-1), model::info(at));
  }

  // The futex model (executor/futex.h), as Relacy's own futex emulation
  // does it: a futex call is a scheduling point and a full fence (Linux's
  // futex_wait/futex_wake imply smp_mb); the value check and the sleep are
  // one step; the wait may return spuriously.
  void futex_wait(T expected, model::Here at = model::Here::current()) {
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    T now;
    {
      rl::preemption_disabler no_switch(c);
      now = a_.load(rl::mo_relaxed, model::info(at));
    }
    if (now != expected) return;
    a_.wait(c, /*is_timed=*/false, /*allow_spurious_wakeup=*/true, model::info(at));
  }
  void futex_wake_one(model::Here at = model::Here::current()) {
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    a_.wake(c, 1, model::info(at));
  }

 private:
  mutable rl::atomic<T> a_;
};

inline void atomic_thread_fence(std::memory_order mo, model::Here at = model::Here::current()) {
  rl::atomic_thread_fence(model::to_rl(mo), model::info(at));
}

// std::mutex's interface on rl::mutex (for std::lock_guard and friends).
class mutex {
 public:
  void lock(model::Here at = model::Here::current()) { m_.lock(model::info(at)); }
  void unlock(model::Here at = model::Here::current()) { m_.unlock(model::info(at)); }
  bool try_lock(model::Here at = model::Here::current()) { return m_.try_lock(model::info(at)); }

 private:
  rl::mutex m_;
};

// A spin-wait round: tells Relacy this thread waits for another's progress,
// so the scheduler runs someone else (and reports a livelock if nobody can
// make progress).
inline void spin_yield(model::Here at = model::Here::current()) { rl::yield(1, model::info(at)); }

}  // namespace weft

#endif  // WEFT_EXECUTOR_ATOMIC_RELACY_H_
