// Task threads: what every thread that runs weft tasks tells the reactor,
// and how such a thread parks.
//
// What it is for: waking a parked thread costs as much as a whole TCP round
// trip on these machines (BENCH.md, floors), so I/O readiness should be
// found by the threads that will run the woken tasks, not hop through the
// reactor's own thread. Every thread that runs tasks (Executor workers,
// LocalExecutor::run, block_on) therefore:
//   - polls the reactor without blocking before it parks
//     (poll_io_before_park, which a thread about to watch I/O skips), and
//     busy Executor workers every 61 ticks (poll_io_now); the poll is
//     counted, so the reactor can tell which awake threads are still
//     polling;
//   - parks through park_task_thread(), which lets the reactor choose how:
//     one idle thread at a time may sleep in epoll_wait as the I/O watcher,
//     so an event on an idle runtime wakes the thread that runs its task;
//   - is counted as awake while it runs tasks (TaskThreadScope), so the
//     reactor's driver knows when it must stand by (some thread is awake and
//     may compute for long) and when it may sleep.
// Liveness does not rest on any of this: the reactor's driver thread checks
// the awake threads' poll counts every ~0.5 ms and polls itself when nobody
// did (reactor.h). These hooks only make the common case fast.
//
// The executor does not depend on the reactor: the reactor installs the
// hooks when it starts. Before that, polling does nothing and parking uses
// the futex.
#ifndef WEFT_EXECUTOR_TASK_THREADS_H_
#define WEFT_EXECUTOR_TASK_THREADS_H_

#include <atomic>
#include <cstdint>

#include "executor/parker.h"

namespace weft {
namespace detail {

// One per thread that has run tasks; never freed (the driver scans them),
// reused by later threads.
struct TaskThread {
  // I/O polls made by this thread while awake. Written by the owner only,
  // read by the driver in observe_task_threads(); relaxed both ways: a
  // count compared with an earlier snapshot, publishing nothing.
  std::atomic<uint32_t> polls{0};
  // Whether the owner is inside a TaskThreadScope and not parked. Written by
  // the owner; read by the driver (relaxed, a snapshot).
  std::atomic<bool> awake{false};
  // Set by the driver: this thread is awake and polled during each of the
  // last two check intervals, i.e. it is polling steadily (a busy worker's
  // poll every 61 long tasks does not count). Read by other threads
  // deciding how to park (relaxed, a hint).
  std::atomic<bool> fresh{false};
  // Claimed with acq_rel by a thread that starts using this record.
  std::atomic<bool> in_use{false};
  uint32_t seen_polls = 0;    // the driver's snapshot of `polls`
  bool polled_before = false;  // the driver's: polls moved in the interval before
  uint32_t depth = 0;       // owner only: nested TaskThreadScopes
};

// Installed once by the reactor.
struct ReactorHooks {
  // Polls for ready events without blocking and wakes their tasks; returns
  // how many events it handled.
  int (*poll)() noexcept;
  // The same, by the task thread `self` that found no work and is about to
  // park (park below). The reactor may skip the syscall when `self` is to
  // park as the I/O watcher, whose blocking wait finds the same events; it
  // then polls in park if the thread parks otherwise.
  int (*poll_before_park)(TaskThread* self) noexcept;
  // Parks the calling task thread `self` on `parker`, as the reactor sees
  // fit (in epoll_wait as the I/O watcher, or on the futex).
  void (*park)(TaskThread* self, Parker& parker) noexcept;
  // A task thread woke while no other was awake: the driver must stand by.
  void (*first_awake)() noexcept;
};
void set_reactor_hooks(const ReactorHooks* hooks) noexcept;

// --- for threads that run tasks -------------------------------------------

// Marks the calling thread as an awake task thread for its lifetime
// (nestable: block_on inside LocalExecutor::run counts once).
class TaskThreadScope {
 public:
  TaskThreadScope() noexcept;
  ~TaskThreadScope();
  TaskThreadScope(const TaskThreadScope&) = delete;
  TaskThreadScope& operator=(const TaskThreadScope&) = delete;
};

// Polls the reactor without blocking; wakes the tasks of what it finds.
// Inside a TaskThreadScope the poll is counted for the calling thread.
int poll_io_now() noexcept;
// As poll_io_now, by a thread that found no work and will call
// park_task_thread next unless this finds some: the reactor may defer the
// look at I/O into the park (ReactorHooks::poll_before_park).
int poll_io_before_park() noexcept;
// Parks the calling thread (inside a TaskThreadScope) until `parker` is
// unparked, or spuriously; it is not counted as awake meanwhile.
void park_task_thread(Parker& parker) noexcept;

// --- for the reactor ------------------------------------------------------

// Task threads awake now (seq_cst: see first_awake in reactor.cc).
int awake_task_threads() noexcept;
// The driver, once per check interval: marks each awake thread that polled
// in this interval and the one before as fresh, the others as not.
struct TaskThreadsSeen {
  int fresh = 0;       // awake threads polling steadily (see TaskThread::fresh)
  bool polled = false;  // whether any thread (awake or not now) polled
};
TaskThreadsSeen observe_task_threads() noexcept;
// Whether an awake task thread other than `self` is polling steadily (it
// will likely find the next event before a watcher could).
bool others_polling(const TaskThread* self) noexcept;

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_TASK_THREADS_H_
