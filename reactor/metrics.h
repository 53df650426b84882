// ReactorMetrics: what the reactor (reactor/reactor.h) is doing, read from
// any thread while it runs; the reactor's half of ExecutorMetrics
// (executor/metrics.h).
//
// What it is for: "who finds my I/O events, and what does it cost": how
// many epoll_wait calls the task threads, the watcher and the driver make,
// how often the driver has to poll for busy threads (a sign that tasks
// compute for long without awaiting), how many events and timers flow.
//
// Cost: always on. Every counter has one writer at a time and is counted
// with a relaxed load and store on that writer's own cache line (no
// read-modify-write): the driver thread's counters are its own, the
// watcher's are handed from one watcher to the next with the watcher role,
// and each task thread counts its polls in a thread-local block. Only
// registering an fd (a few system calls anyway) adds to a shared counter.
// reactor_metrics() takes a mutex to sum the thread-local blocks.
//
// Guarantees: every counter only grows; a snapshot taken while threads run
// is not atomic across counters: each value was true at some moment during
// the call. The driver counts timer operations when it takes them from
// their queues (within a turn of the operation: at most a check interval
// while the runtime is busy, at once when the operation needs it to wake),
// so a timer just armed may not be counted yet.
//
// Example:
//   weft::ReactorMetrics m = weft::reactor_metrics();   // any thread
//   printf("%lu events, %lu polls by tasks, %lu by the driver for busy threads\n",
//          m.io_events, m.task_polls, m.driver_busy_polls);
#ifndef WEFT_REACTOR_METRICS_H_
#define WEFT_REACTOR_METRICS_H_

#include <cstddef>
#include <cstdint>

namespace weft {

struct ReactorMetrics {
  // --- registrations (Async<T>, TcpStream, ...: one per fd) --------------
  size_t registrations = 0;          // registered now
  uint64_t registrations_total = 0;  // ever registered

  // --- I/O readiness, all pollers together ------------------------------
  uint64_t io_events = 0;  // readiness events for registered fds handled
  uint64_t io_wakes = 0;   // tasks those events woke (a waiter satisfied)

  // --- epoll_wait calls on the I/O set, by who makes them ----------------
  // Task threads, without blocking: before they park (unless they park as
  // the watcher, whose wait finds the same events), and busy Executor
  // workers every 61 ticks; only while some fd is registered. The common
  // case: the event's task then runs on the thread that found it.
  uint64_t task_polls = 0;
  // The watcher (one parked task thread at a time) sleeping in epoll_wait
  // on the I/O set.
  uint64_t watcher_waits = 0;
  // Of those waits, the ones ended by an interrupt (an unpark of the
  // watcher, or the driver moving it off the I/O set) rather than events.
  uint64_t watcher_interrupts = 0;
  // The driver, at a check, for awake task threads none of which polled in
  // the last interval (they compute without awaiting) with no watcher.
  uint64_t driver_busy_polls = 0;
  // The driver, after its own one-shot watch of the I/O set fired (no task
  // thread awake and no watcher: an idle runtime).
  uint64_t driver_watch_polls = 0;

  // --- the driver thread ("weft-reactor") --------------------------------
  // epoll_wait calls on its own set (timers' deadline, its alarm, wake-ups
  // from other threads, its I/O watch); each return is one wake-up of the
  // driver. Its epoll_wait calls in all: driver_waits + driver_busy_polls +
  // driver_watch_polls.
  uint64_t driver_waits = 0;
  // Progress checks: ticks of its check interval (500 us) while task
  // threads are awake (each may poll for them and runs the watchdog).
  uint64_t driver_checks = 0;

  // --- timers (Timer, sleep_for, Interval, timeouts) ---------------------
  // Counted by the driver: a timer cancelled before the driver took its
  // insert (its owner took it back, reactor.cc) is in none of these.
  uint64_t timers_armed = 0;      // deadlines handed to the driver
  uint64_t timers_fired = 0;      // of those, reached (their task woken)
  uint64_t timers_cancelled = 0;  // of those, cancelled before they fired
  size_t timers_pending = 0;      // in the timer wheel after the driver's last turn
};

// A snapshot of the process's reactor. All zeros before the reactor has
// started (it starts with the first executor, I/O object or timer); this
// call does not start it.
ReactorMetrics reactor_metrics();

}  // namespace weft

#endif  // WEFT_REACTOR_METRICS_H_
