// Watchdog: lets the reactor's driver thread check on executors every few
// hundred microseconds, so runnable work never waits on a busy worker while
// another sleeps.
//
// What it is for: a worker decides alone what to run next, and it only
// decides between tasks. While one task computes for long, what it queued
// (the task it just woke into its LIFO slot, a task that is the only one in
// its queue) and what the shared injector holds can wait behind it; the
// scheduler's own notifications cannot know that a run will be long. Only
// something outside the workers, looking at them with a clock, can. The
// reactor's driver thread already wakes periodically while task threads are
// awake (reactor.h); each time, it calls watchdog_tick(), and every
// registered executor looks for workers whose run counter has not moved
// since the last look and that still hold queued work, and hands that work
// to an idle worker.
//
// Requires: a Watched object stays registered only while it can be called:
// unwatch() before destroying it (unwatch waits for a tick in progress).
// The reactor library linked in (it installs the starter; //:weft has it):
// without it there is no driver thread and so no watchdog.
#ifndef WEFT_EXECUTOR_WATCHDOG_H_
#define WEFT_EXECUTOR_WATCHDOG_H_

namespace weft {
namespace detail {

class Watched {
 public:
  // Called from the driver thread, about every check interval.
  virtual void on_watchdog_tick() noexcept = 0;

 protected:
  ~Watched() = default;

 private:
  friend void watch(Watched*) noexcept;
  friend void unwatch(Watched*) noexcept;
  friend void watchdog_tick() noexcept;
  Watched* prev_ = nullptr;  // guarded by the watchdog's mutex
  Watched* next_ = nullptr;  // guarded by the watchdog's mutex
};

// Registers `w`, and makes sure the thread that ticks the watchdog runs
// (see set_watchdog_starter).
void watch(Watched* w) noexcept;
void unwatch(Watched* w) noexcept;
// The driver's periodic call.
void watchdog_tick() noexcept;
// Installed by the reactor library at static initialisation: starts the
// reactor (whose driver thread ticks the watchdog). watch() calls it, so an
// executor whose tasks do no I/O and set no timer still has a watchdog.
void set_watchdog_starter(void (*start)()) noexcept;

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_WATCHDOG_H_
