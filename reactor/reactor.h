// Reactor: the process-wide epoll instance and timer wheel, and the
// "weft-reactor" thread that drives them.
//
// What it is for: I/O objects (Async<T>) register their fd here once; timers
// (Timer, sleep_for, Interval) hand their deadlines here. The driver thread
// turns readiness events and expired deadlines into wake() calls, and runs
// no user code.
//
// Progress guarantee: an fd event or an expired timer becomes a wake()
// within about a millisecond, whatever the tasks are doing (computing for
// seconds, looping on always-ready sockets, all workers busy). The driver
// thread is what makes this true; everything else below only makes the
// common case faster. A woken task then runs as soon as a worker is free:
// on an idle worker at once (executor.h, watchdog.h), or, when every worker
// computes, when one of them next switches tasks.
//
// Implementation:
//   - One epoll fd for I/O, edge-triggered registrations (EPOLLIN | EPOLLOUT |
//     EPOLLRDHUP | EPOLLET) made once per fd; readiness is cached in the
//     fd's ScheduledIo (scheduled_io.h). The epoll event carries
//     (slab index, generation), so events for a deregistered fd are ignored.
//   - Who finds I/O events, in the order that costs the least:
//     1. Task threads that run out of work poll the I/O epoll fd without
//        blocking before they park (busy Executor workers also every 61
//        ticks), so a task woken by I/O is scheduled from, and runs on, the
//        thread that found the event: no thread hop (tcp_rtt). Only while
//        some fd is registered: a program that only computes or sleeps
//        makes no epoll_wait calls for nothing. A thread about to park as
//        the watcher (2.) skips the poll before parking: its blocking
//        epoll_wait returns at once with the same events (an idle server's
//        round trip: epoll_wait, read, write; see io_poll.cc).
//     2. A task thread that parks may sleep in epoll_wait on the I/O set as
//        the *watcher* (one at a time), so an event on an idle runtime wakes
//        the thread that runs its task: one hop (idle_rtt). It does not
//        while another awake thread is polling (it would only be woken for
//        events that thread takes first); unpark() interrupts it through a
//        level-triggered eventfd in the same set (Parker::park_in).
//     3. The driver, the guarantee. While any task thread is awake (and for
//        kLinger after the last activity), it wakes every kCheckInterval
//        (500 us), marks which awake threads polled in the interval
//        (executor/task_threads.h), and if none did and no thread is the
//        watcher, polls itself. An event therefore waits at most two
//        intervals. The same tick runs the executors' watchdog. While every
//        task thread sleeps it sleeps too, watching I/O itself (a one-shot
//        nested watch) only if there is no watcher; the first thread to wake
//        sets its alarm (a timerfd) rather than waking it, which would
//        preempt that thread on its way to the task.
//     This is the liveness that async-io's driver gives (it takes over when
//     the reactor's tick stops moving), at a 1 ms bound instead of its
//     10 ms back-off, without putting the driver on the path of any event.
//   - An eventfd interrupts epoll_wait when a new timer deadline is earlier
//     than the one the driver sleeps towards, or when many timer operations
//     are queued.
//   - Timers live in a TimerWheel owned by the driver (O(1) insert and
//     cancel). Other threads hand it inserts and cancels through two
//     lock-free stacks (Treiber push; the driver takes the whole stack with
//     one exchange, so there is no ABA).
//   - The reactor is created on first use and never destroyed (the driver
//     thread runs until the process exits), so I/O objects and timers may be
//     used from static destructors and detached threads safely.
//   - SIGPIPE: on start, if the process still has the default SIGPIPE
//     disposition (terminate), the reactor sets it to ignore, as Rust's
//     runtime does: a peer that resets a connection or closes a pipe must
//     produce an EPIPE error, never kill the process. Sockets also write with
//     MSG_NOSIGNAL. A program that installed its own handler keeps it.
#ifndef WEFT_REACTOR_REACTOR_H_
#define WEFT_REACTOR_REACTOR_H_

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "executor/parker.h"
#include "executor/task_threads.h"
#include "reactor/metrics.h"
#include "reactor/metrics_counters.h"
#include "reactor/registration_slab.h"
#include "reactor/scheduled_io.h"
#include "reactor/timer_entry.h"
#include "reactor/timer_op_stack.h"
#include "reactor/timer_wheel.h"

namespace weft {
namespace detail {

class Reactor;

// An fd's registration with the reactor. Move-only; destroying it (or
// deregister()) removes the fd from epoll, wakes every task waiting on it
// with a shutdown indication, and returns once no operation holds a pin on
// it (scheduled_io.h): the owner closes the fd after that, never before.
//
// Threads: deregister() may run while other threads read io() and
// generation() to start operations: it changes neither (the record is never
// freed; its generation tells them the registration is closed). Moving and
// destroying are the owner's alone.
class IoRegistration {
 public:
  IoRegistration() noexcept = default;
  IoRegistration(IoRegistration&& o) noexcept
      : io_(std::exchange(o.io_, nullptr)),
        index_(o.index_),
        generation_(o.generation_),
        live_(std::exchange(o.live_, false)) {}
  IoRegistration& operator=(IoRegistration&& o) noexcept {
    if (this != &o) {
      deregister();
      io_ = std::exchange(o.io_, nullptr);
      index_ = o.index_;
      generation_ = o.generation_;
      live_ = std::exchange(o.live_, false);
    }
    return *this;
  }
  ~IoRegistration() { deregister(); }

  void deregister() noexcept;
  // Registered and not yet deregistered.
  explicit operator bool() const noexcept { return live_; }
  // The record; stays valid (but stale) after deregister(). Null only when
  // default-constructed or moved from.
  ScheduledIo* io() const noexcept { return io_; }
  uint32_t generation() const noexcept { return generation_; }

 private:
  friend class Reactor;
  IoRegistration(ScheduledIo* io, uint32_t index, uint32_t generation) noexcept
      : io_(io), index_(index), generation_(generation), live_(true) {}
  ScheduledIo* io_ = nullptr;
  uint32_t index_ = 0;
  uint32_t generation_ = 0;
  bool live_ = false;  // the owner's: written by deregister() and moves
};

class Reactor final : public ParkBlocker {
 public:
  using Clock = std::chrono::steady_clock;

  // The reactor, started on first call.
  static Reactor& get();

  // Registers `fd` (already non-blocking) for readiness events. Errors:
  // InvalidArgument for a closed or invalid fd and for files epoll cannot
  // poll (regular files, directories: use blocking_pool/), AlreadyExists
  // when the fd is registered already, ResourceExhausted when the kernel
  // or the slab is out of room.
  absl::StatusOr<IoRegistration> register_fd(int fd);

  // --- timers (see timer_entry.h for the protocol) -----------------------
  // Milliseconds since the reactor started; deadlines round up so a timer
  // never fires early.
  uint64_t now_ms() const noexcept;
  uint64_t to_deadline_ms(Clock::time_point t) const noexcept;
  Clock::time_point from_ms(uint64_t ms) const noexcept;
  // Hands a new entry (with the driver's reference) to the driver.
  void submit_timer(TimerEntry* e) noexcept;
  // Cancels: see TimerEntry. Consumes the caller's reference either way.
  void cancel_timer(TimerEntry* e) noexcept;

  // Makes the driver take a turn now (tests: to observe a cancellation).
  void wake() noexcept { wake_driver(); }
  // For tests: timers currently linked in the wheel (driver's count,
  // published after each turn).
  size_t timers_in_wheel() const noexcept {
    return timers_in_wheel_.load(std::memory_order_acquire);
  }
  // For tests: registrations currently live.
  size_t registrations() const noexcept { return live_regs_.load(std::memory_order_acquire); }

  // weft::reactor_metrics() (reactor/metrics.h); any thread.
  ReactorMetrics metrics() const noexcept;

 private:
  friend class IoRegistration;
  Reactor();
  void deregister(ScheduledIo* io, uint32_t index) noexcept;
  void driver_main() noexcept;
  void run_timers() noexcept;
  void wake_driver() noexcept;

  // Polls the I/O epoll fd and wakes the tasks of what it finds; any thread
  // (`watcher`: the caller is the I/O watcher). Counts the call, its events
  // and wakes in `counters` (the caller's own block). Returns the fd events
  // handled (the watcher's interrupt is not one).
  int poll_io(int timeout_ms, bool watcher, PollCounters& counters) noexcept;
  void drain_interrupt() noexcept;
  // Arms or disarms the driver's one-shot watch of epfd_ (driver thread).
  void set_driver_io(bool armed) noexcept;
  // epoll_wait on the driver's set until `wake_at` (max: no limit).
  int wait_events(epoll_event* events, int max, Clock::time_point now,
                  Clock::time_point wake_at) noexcept;
  // Paused time (time_control.cc; driver thread): moves the paused clock
  // for advance() and auto-advance once the runtime is settled; true when
  // it moved (run the timers again).
  bool step_paused_clock(std::optional<uint64_t> next) noexcept;
  // Whether the driver must stand by for step_paused_clock.
  bool paused_clock_pending(bool has_timers) const noexcept;
  // No timer wake or advance completion in flight, no task thread awake,
  // no timer operation queued.
  bool settled() const noexcept;
  // The real time to wake at for the timer wheel's `next` expiration.
  Clock::time_point timer_wake_at(std::optional<uint64_t> next,
                                  Clock::time_point real_now) const noexcept;
  // The driver's periodic look at task threads (see kCheckInterval).
  // Returns whether it saw activity (a thread awake, or one that polled).
  bool check_progress() noexcept;

  // Parking task threads (executor/task_threads.h): one at a time may
  // become the I/O watcher and sleep in epoll_wait on epfd_.
  void park_task_thread(TaskThread* self, Parker& parker) noexcept;
  // Whether `self`, parking, should take the watcher role (a hint: the
  // role's CAS decides).
  bool may_watch(const TaskThread* self) const noexcept;
  // Whether any fd is registered (a relaxed hint: see io_poll.cc).
  bool has_registrations() const noexcept;
  // ParkBlocker: the watcher's wait, and its interruption by unpark().
  void block() noexcept override;
  void interrupt() noexcept override;

  static int hook_poll() noexcept;
  static int hook_poll_before_park(TaskThread* self) noexcept;
  static void hook_park(TaskThread* self, Parker& parker) noexcept;
  static void hook_first_awake() noexcept;
  // Makes the driver wake one check interval from now (any thread).
  void set_alarm() noexcept;

  // Whether the driver's one-shot watch of epfd_ is armed (driver thread
  // only). Armed only while it sleeps with no task thread awake and no
  // watcher; cleared when the watch fires.
  bool io_armed_ = true;
  // Whether a parked task thread holds the watcher role (sleeps, or is about
  // to, in epoll_wait on epfd_). Taken with an acquire CAS and given
  // back with a release store by that thread; read by the driver.
  std::atomic<bool> watcher_held_{false};
  // Set (seq_cst) by the driver before it sleeps with no task thread awake,
  // i.e. without its periodic check; a thread that wakes first exchanges it
  // back and sets the driver's alarm (hook_first_awake).
  std::atomic<bool> driver_idle_{false};
  bool has_pwait2_ = true;  // driver thread only

  // The time base of the wheel's milliseconds, on weft's clock
  // (base/clock.h: steady_clock unless a test paused time).
  const Clock::time_point start_;
  int epfd_ = -1;      // I/O registrations; polled by the driver and by idle workers
  int driver_fd_ = -1;  // the driver's: evfd_ and epfd_ (one-shot)
  int evfd_ = -1;
  int alarm_fd_ = -1;  // a timerfd in driver_fd_: set_alarm()
  int watch_evfd_ = -1;   // in epfd_, level-triggered; written by interrupt()
  RegistrationSlab slab_;
  std::atomic<size_t> live_regs_{0};
  // Registrations ever made (relaxed: a statistic; register_fd makes
  // several system calls around it anyway).
  std::atomic<uint64_t> regs_total_{0};
  // Metrics (metrics_counters.h): the driver's counters (driver thread
  // only), and the watcher's (the thread holding watcher_held_ only: the
  // role's acquire CAS and release store order one watcher's counts
  // before the next one's).
  DriverCounters driver_counters_;
  WatcherCounters watcher_counters_;

  // Lock-free stacks of timer operations; pushed by any thread, taken
  // whole by the driver (timer_op_stack.h). An owner that cancels an entry
  // whose insert is still on top of inserts_ takes it back instead
  // (cancel_timer): the driver never hears of it.
  TimerOpStack<TimerEntry, &TimerEntry::next_insert> inserts_;
  TimerOpStack<TimerEntry, &TimerEntry::next_cancel> cancels_;
  // Cancel operations pushed since the driver last took the stacks: past a
  // threshold the pusher wakes the driver, so the cancelled entries that
  // wait for it (they cannot be recycled before) stay bounded. Inserts are
  // not counted: an entry not cancelled is a live timer its owner holds.
  std::atomic<uint32_t> pending_cancels_{0};
  // The deadline (ms) the driver sleeps towards, 0 while it is awake and
  // will look at the stacks again before sleeping, UINT64_MAX for none. A
  // pusher with an earlier deadline lowers it (CAS) and wakes the driver.
  std::atomic<uint64_t> sleep_until_ms_{0};

  TimerWheel wheel_;  // driver thread only
  // Entries that fired in one turn, woken in deadline order (driver only).
  std::vector<TimerEntry*> fired_;
  std::atomic<size_t> timers_in_wheel_{0};
  std::thread driver_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_REACTOR_H_
