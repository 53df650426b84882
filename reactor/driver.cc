// The driver thread: timers, the progress checks, and the I/O watch of last
// resort (see reactor.h, "Who finds I/O events").
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <limits>

#include "executor/task_threads.h"
#include "executor/watchdog.h"
#include "reactor/reactor.h"
#include "reactor/reactor_internal.h"

namespace weft {
namespace detail {
namespace {
// Executors start the reactor when they are created (executor/watchdog.h):
// its driver thread is their watchdog, I/O or not. The reactor target is
// alwayslink so this registration is never dropped by the linker.
const bool kWatchdogStarterInstalled = [] {
  set_watchdog_starter([] { Reactor::get(); });
  return true;
}();
}  // namespace

// The count's seq_cst increment (task_threads.cc) and this exchange pair
// with the driver, which sets driver_idle_ and then reads the count: either
// it sees the thread awake or we see its flag and set its alarm.
//
// An alarm, not a wake-up: waking the driver now was measured to cost the
// woken thread ~12 us per wake from idle (idle_rtt at 10 ms gaps, p50 24 us
// against 12 us without): the driver, woken on the same CPU, preempts the
// thread that is about to run the task. The alarm (one timerfd_settime call,
// no wake-up) gets the driver up one check interval later, by which time a
// short task is done and its thread asleep again; a task that computes
// instead finds the driver standing by from then on.
void Reactor::hook_first_awake() noexcept {
  Reactor* r = reactor_for_hooks();
  if (r->driver_idle_.exchange(false, std::memory_order_seq_cst)) r->set_alarm();
}

void Reactor::set_alarm() noexcept {
  itimerspec its{};
  its.it_value.tv_nsec =
      std::chrono::duration_cast<std::chrono::nanoseconds>(kCheckInterval).count();
  if (timerfd_settime(alarm_fd_, 0, &its, nullptr) != 0) wake_driver();  // cannot fail; be safe
}

void Reactor::set_driver_io(bool armed) noexcept {
  if (io_armed_ == armed) return;
  io_armed_ = armed;
  epoll_event ev{};
  // Disarmed: a one-shot entry with no events never fires.
  ev.events = armed ? EPOLLIN | EPOLLONESHOT : EPOLLONESHOT;
  ev.data.u64 = kIoToken;
  // Re-arming re-checks readiness: events already waiting fire at once.
  if (epoll_ctl(driver_fd_, EPOLL_CTL_MOD, epfd_, &ev) != 0) die("epoll_ctl(driver io watch)");
}

void Reactor::driver_main() noexcept {
  epoll_event events[3];
  Clock::time_point next_check = Clock::now() + kCheckInterval;
  Clock::time_point last_active = Clock::now();
  for (;;) {
    // The driver is awake: pushers need not wake it. seq_cst: see push_op.
    sleep_until_ms_.store(0, std::memory_order_seq_cst);
    run_timers();
    auto next = wheel_.next_expiration();
    // Paused time (time_control.cc) moved: fire what became due.
    if (step_paused_clock(next)) continue;
    const uint64_t target = next ? *next : std::numeric_limits<uint64_t>::max();
    sleep_until_ms_.store(target, std::memory_order_seq_cst);
    // Dekker with push_op/submit_timer: after publishing our target, look
    // at the stacks once more; a push we miss here saw our target.
    if (!inserts_.empty() || !cancels_.empty()) {
      continue;
    }
    // Stand by (wake every check interval) while any task thread is awake
    // (it may compute for long and stop polling), and for kLinger after the
    // last activity. Then sleep: the watcher (or, without one, our own
    // one-shot watch) covers I/O, and the first thread to wake sets our
    // alarm.
    const int awake = awake_task_threads();
    // Paused time waiting for the runtime to settle stands by too.
    bool standby = awake > 0 || Clock::now() - last_active < kLinger ||
                   paused_clock_pending(next.has_value());
    if (!standby) {
      // seq_cst: Dekker with hook_first_awake (see there).
      driver_idle_.store(true, std::memory_order_seq_cst);
      if (awake_task_threads() > 0) {
        driver_idle_.store(false, std::memory_order_relaxed);
        standby = true;
      }
    }
    // Watch I/O ourselves only while nobody else can: no task thread awake
    // and no watcher. Otherwise an event would wake us as well, and we would
    // race the thread that should run its task for it.
    // acquire: pairs with the watcher's release when it gives the role back
    // (io_poll.cc); a stale answer costs one spurious wake, not an event.
    set_driver_io(awake == 0 && !watcher_held_.load(std::memory_order_acquire));
    const Clock::time_point now = Clock::now();
    Clock::time_point wake_at = Clock::time_point::max();
    if (next) wake_at = timer_wake_at(next, now);  // max while paused
    if (standby) wake_at = std::min(wake_at, next_check);
    const int n = wait_events(events, 3, now, wake_at);
    // relaxed: we are awake; a late first_awake() that finds false does not
    // need to wake us (we re-read the count before sleeping again).
    driver_idle_.store(false, std::memory_order_relaxed);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeToken || events[i].data.u64 == kAlarmToken) {
        uint64_t drained;
        [[maybe_unused]] ssize_t r = read(
            events[i].data.u64 == kWakeToken ? evfd_ : alarm_fd_, &drained, sizeof drained);
        continue;
      }
      // The one-shot I/O watch fired and is now disarmed: nobody else is
      // watching, so handle the events here.
      io_armed_ = false;
      bump(driver_counters_.watch_polls);
      poll_io(0, false, driver_counters_.poll);
    }
    const Clock::time_point after = Clock::now();
    if (after >= next_check) {
      bump(driver_counters_.checks);
      if (check_progress()) last_active = after;
      next_check = after + kCheckInterval;
    }
  }
}

int Reactor::wait_events(epoll_event* events, int max, Clock::time_point now,
                         Clock::time_point wake_at) noexcept {
  bump(driver_counters_.waits);
  if (wake_at == Clock::time_point::max()) return epoll_wait(driver_fd_, events, max, -1);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wake_at - now).count();
  if (ns < 0) ns = 0;
  if (ns > (int64_t{1} << 40)) ns = int64_t{1} << 40;  // ~18 min: re-checks then
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  // epoll_pwait2 (Linux 5.11) takes a nanosecond timeout; older kernels
  // get epoll_wait rounded up to whole milliseconds.
  if (has_pwait2_) {
    const int n = epoll_pwait2(driver_fd_, events, max, &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    has_pwait2_ = false;
  }
  return epoll_wait(driver_fd_, events, max, static_cast<int>((ns + 999'999) / 1'000'000));
}

bool Reactor::check_progress() noexcept {
  // Task threads that polled during the last interval will poll again soon
  // (between tasks, or before they sleep); a watcher in epoll_wait sees
  // every event. If neither, nobody would find an event: poll for them. The
  // tasks woken here go to their executors' shared queues, and the
  // watchdog below makes sure an idle worker takes them.
  const TaskThreadsSeen seen = observe_task_threads();
  if (awake_task_threads() == 0) return seen.polled;
  // acquire: as in driver_main. A watcher that just left is seen at the
  // next check at the latest, which the two-interval bound allows for.
  const bool watcher = watcher_held_.load(std::memory_order_acquire);
  if (seen.fresh == 0 && !watcher) {
    bump(driver_counters_.busy_polls);
    poll_io(0, false, driver_counters_.poll);
  }
  // A watcher that parked before anyone polled steadily (e.g. a worker that
  // went idle as soon as a ping-pong started on another) is woken by every
  // event that the polling thread then takes first: each costs the event's
  // sender a wake-up of the watcher (tcp_rtt on 2 threads: 4.2 -> 7.1 us).
  // Interrupt it once; it parks again on its futex (others_polling).
  if (seen.fresh > 0 && watcher) interrupt();
  watchdog_tick();
  return true;
}

}  // namespace detail
}  // namespace weft
