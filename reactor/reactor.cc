#include "reactor/reactor.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "executor/task_threads.h"
#include "executor/watchdog.h"

namespace weft {
namespace detail {
namespace {

// Tokens in the driver's and the watcher's epoll sets; no slab index
// reaches them.
constexpr uint64_t kWakeToken = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kIoToken = kWakeToken - 1;
constexpr uint64_t kAlarmToken = kWakeToken - 2;
// How often the driver checks on awake task threads (polls I/O for them if
// none polled, and runs the executors' watchdog). An event then becomes a
// wake() within two intervals, 1 ms, whatever tasks do; the cost is one
// driver wake-up per interval (~2,000/s, each a few microseconds of the
// otherwise idle driver thread) while the runtime is active.
constexpr auto kCheckInterval = std::chrono::microseconds(500);
// How long the driver keeps checking after the last sign of activity (a
// task thread awake or polling), before it sleeps until a thread wakes. A
// thread that wakes while the driver sleeps must get it up (an alarm: one
// timerfd_settime); on these VMs arming a timer on a CPU that idles costs
// the woken thread ~10 us (idle_rtt, 10 ms gaps: p50 22 us against 12 us
// without). Lingering keeps that off every wake of a runtime that serves
// traffic; a runtime idle for longer than this costs nothing.
constexpr auto kLinger = std::chrono::milliseconds(50);
// Events fetched per epoll_wait: enough to drain a busy turn in one call.
constexpr int kMaxEvents = 256;
// Queued timer operations after which a pusher wakes the driver even though
// no deadline moved: bounds the memory of a create-and-cancel storm.
constexpr uint32_t kOpsBeforeWake = 4096;

uint64_t token(uint32_t index, uint32_t generation) {
  return (uint64_t{index} << 32) | generation;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "weft: reactor: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

void ignore_default_sigpipe() {
  struct sigaction sa;
  if (sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL &&
      !(sa.sa_flags & SA_SIGINFO)) {
    signal(SIGPIPE, SIG_IGN);
  }
}

}  // namespace

void IoRegistration::deregister() noexcept {
  if (io_) Reactor::get().deregister(std::exchange(io_, nullptr), index_);
}

namespace {
// Set once by the constructor; read by the idle-poll hooks.
std::atomic<Reactor*> g_reactor{nullptr};
Reactor* reactor_for_hooks() noexcept {
  // acquire: pairs with the release store in the constructor.
  return g_reactor.load(std::memory_order_acquire);
}
}  // namespace

Reactor& Reactor::get() {
  // Leaked: the driver thread and late deregistrations may outlive statics.
  static Reactor* r = new Reactor();
  return *r;
}

int Reactor::hook_poll() noexcept { return reactor_for_hooks()->poll_io(0, false); }

void Reactor::hook_park(TaskThread* self, Parker& parker) noexcept {
  reactor_for_hooks()->park_task_thread(self, parker);
}

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

void Reactor::park_task_thread(TaskThread* self, Parker& parker) noexcept {
  // Watch I/O from epoll_wait if nobody does and no other awake thread is
  // polling: then an event wakes this thread, which runs its task (one hop
  // instead of driver + worker). While another thread polls, a watcher would
  // only be woken for events that thread takes first.
  // relaxed: a hint; the CAS decides.
  if (!watcher_held_.load(std::memory_order_relaxed) &&
      (awake_task_threads() == 0 || !others_polling(self))) {
    bool expected = false;
    // acquire: pairs with the release store below by the previous watcher.
    if (watcher_held_.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
      parker.park_in(*this);
      // release: pairs with the CAS above and with the driver's loads.
      watcher_held_.store(false, std::memory_order_release);
      return;
    }
  }
  parker.park();
}

void Reactor::block() noexcept {
  // Events wake their tasks onto this thread's own queue; an interrupt (our
  // unpark) just returns.
  poll_io(-1, /*watcher=*/true);
}

void Reactor::interrupt() noexcept {
  uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable: fine.
  [[maybe_unused]] ssize_t n = write(watch_evfd_, &one, sizeof one);
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

Reactor::Reactor() : start_(Clock::now()), wheel_(0) {
  ignore_default_sigpipe();
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) die("epoll_create1");
  driver_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (driver_fd_ < 0) die("epoll_create1");
  evfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (evfd_ < 0) die("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = kWakeToken;
  if (epoll_ctl(driver_fd_, EPOLL_CTL_ADD, evfd_, &ev) != 0) die("epoll_ctl(eventfd)");
  alarm_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (alarm_fd_ < 0) die("timerfd_create");
  ev.events = EPOLLIN;
  ev.data.u64 = kAlarmToken;
  if (epoll_ctl(driver_fd_, EPOLL_CTL_ADD, alarm_fd_, &ev) != 0) die("epoll_ctl(alarm)");
  ev.events = EPOLLIN | EPOLLONESHOT;  // armed: no task thread is awake yet
  ev.data.u64 = kIoToken;
  if (epoll_ctl(driver_fd_, EPOLL_CTL_ADD, epfd_, &ev) != 0) die("epoll_ctl(io epoll)");
  // The watcher sleeps in epoll_wait on the I/O set itself; unpark()
  // interrupts it through this eventfd, level-triggered in the same set (see
  // poll_io for who drains it).
  watch_evfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (watch_evfd_ < 0) die("eventfd");
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, watch_evfd_, &ev) != 0) die("epoll_ctl(watch eventfd)");
  // release: pairs with reactor_for_hooks().
  g_reactor.store(this, std::memory_order_release);
  static const ReactorHooks kHooks = {&Reactor::hook_poll, &Reactor::hook_park,
                                      &Reactor::hook_first_awake};
  set_reactor_hooks(&kHooks);
  driver_ = std::thread([this] { driver_main(); });
  pthread_setname_np(driver_.native_handle(), "weft-reactor");
  driver_.detach();
}

absl::StatusOr<IoRegistration> Reactor::register_fd(int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("weft: fd ", fd, " is not an open file descriptor"));
  }
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: fd ", fd, " is a ", S_ISREG(st.st_mode) ? "regular file" : "directory",
        "; epoll cannot poll it: use blocking_pool/ (weft::fs, weft::Unblock) for files"));
  }
  uint32_t index = 0;
  ScheduledIo* io = slab_.allocate(&index);
  if (!io) return absl::ResourceExhaustedError("weft: reactor registration table is full");
  io->reset_for(fd);
  const uint32_t gen = io->generation();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
  ev.data.u64 = token(index, gen);
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    io->shut_down();
    slab_.release(index);
    switch (err) {
      case EEXIST:
        return absl::AlreadyExistsError(
            absl::StrCat("weft: fd ", fd, " is already registered with the reactor"));
      case EPERM:
        return absl::InvalidArgumentError(absl::StrCat(
            "weft: fd ", fd, " cannot be polled by epoll; use blocking_pool/ for files"));
      case EBADF:
        return absl::InvalidArgumentError(absl::StrCat("weft: fd ", fd, " is not open"));
      default:
        return absl::ErrnoToStatus(err, absl::StrCat("weft: registering fd ", fd));
    }
  }
  // relaxed: a statistic for tests, read after synchronizing otherwise.
  live_regs_.fetch_add(1, std::memory_order_relaxed);
  return IoRegistration(io, index, gen);
}

void Reactor::deregister(ScheduledIo* io, uint32_t index) noexcept {
  // The fd is still open (the owner closes it after this): remove it so no
  // new events arrive. Events already fetched carry the old generation.
  epoll_ctl(epfd_, EPOLL_CTL_DEL, io->fd(), nullptr);
  io->shut_down();
  slab_.release(index);
  live_regs_.fetch_sub(1, std::memory_order_relaxed);
}

// --- timers ------------------------------------------------------------

uint64_t Reactor::now_ms() const noexcept {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count());
}

uint64_t Reactor::to_deadline_ms(Clock::time_point t) const noexcept {
  if (t <= start_) return 0;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count();
  return static_cast<uint64_t>((ns + 999'999) / 1'000'000);  // round up: never early
}

Reactor::Clock::time_point Reactor::from_ms(uint64_t ms) const noexcept {
  return start_ + std::chrono::milliseconds(ms);
}

void Reactor::push_op(std::atomic<TimerEntry*>& stack, TimerEntry* e,
                      TimerEntry* TimerEntry::*link) noexcept {
  // relaxed load: the CAS below re-reads.
  TimerEntry* head = stack.load(std::memory_order_relaxed);
  do {
    e->*link = head;
    // seq_cst: release publishes the entry to the driver's exchange; seq_cst
    // also orders this push before our read of sleep_until_ms_ (Dekker with
    // the driver, which stores sleep_until_ms_ then reads the stacks).
  } while (!stack.compare_exchange_weak(head, e, std::memory_order_seq_cst,
                                        std::memory_order_relaxed));
}

void Reactor::submit_timer(TimerEntry* e) noexcept {
  // Read before the push: once pushed, the driver may free a cancelled entry.
  const uint64_t deadline = e->when_ms;
  push_op(inserts_, e, &TimerEntry::next_insert);
  // relaxed: a count; the driver resets it when it takes the stacks.
  const uint32_t ops = pending_ops_.fetch_add(1, std::memory_order_relaxed) + 1;
  // seq_cst: the other half of the Dekker pair in push_op.
  uint64_t target = sleep_until_ms_.load(std::memory_order_seq_cst);
  while (deadline < target) {
    // Only the thread that lowers the target wakes the driver.
    if (sleep_until_ms_.compare_exchange_weak(target, deadline, std::memory_order_seq_cst)) {
      wake_driver();
      return;
    }
  }
  if (ops == kOpsBeforeWake) wake_driver();
}

void Reactor::cancel_timer(TimerEntry* e) noexcept {
  uint32_t expected = TimerEntry::kPending;
  // acq_rel: pairs with the driver's CAS to kFired; exactly one wins.
  if (e->state.compare_exchange_strong(expected, TimerEntry::kCancelled,
                                       std::memory_order_acq_rel, std::memory_order_acquire)) {
    // Our reference travels with the cancel operation.
    push_op(cancels_, e, &TimerEntry::next_cancel);
    if (pending_ops_.fetch_add(1, std::memory_order_relaxed) + 1 == kOpsBeforeWake) wake_driver();
  } else {
    e->unref();
  }
}

void Reactor::wake_driver() noexcept {
  uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable: fine.
  [[maybe_unused]] ssize_t n = write(evfd_, &one, sizeof one);
}

void Reactor::run_timers() noexcept {
  // Take both stacks: inserts first, so a cancel in the same batch finds
  // its entry linked (or knows it never was).
  // acquire: pairs with push_op's release.
  TimerEntry* ins = inserts_.exchange(nullptr, std::memory_order_acquire);
  TimerEntry* can = cancels_.exchange(nullptr, std::memory_order_acquire);
  pending_ops_.store(0, std::memory_order_relaxed);
  for (TimerEntry* e = ins; e;) {
    TimerEntry* next = e->next_insert;
    // acquire: pairs with cancel_timer's CAS (a cancelled entry is left to
    // its cancel operation).
    if (e->state.load(std::memory_order_acquire) == TimerEntry::kPending) {
      e->deadline_ms = e->when_ms;
      wheel_.insert(e);  // the wheel holds the driver's reference
    } else {
      e->unref();  // cancelled before we saw it: the driver's reference
    }
    e = next;
  }
  for (TimerEntry* e = can; e;) {
    TimerEntry* next = e->next_cancel;
    if (e->linked()) {
      wheel_.remove(e);
      e->unref();  // the driver's reference, held by the wheel
    }
    e->unref();  // the owner's, carried by the cancel operation
    e = next;
  }
  // A turn can cover several milliseconds (the driver was busy or woke
  // late): wake the timers that fired in deadline order, not wheel order.
  fired_.clear();
  // Every node in the wheel is a TimerEntry.
  wheel_.poll(now_ms(), [this](TimerNode* n) { fired_.push_back(static_cast<TimerEntry*>(n)); });
  std::stable_sort(fired_.begin(), fired_.end(), [](const TimerEntry* a, const TimerEntry* b) {
    return a->deadline_ms < b->deadline_ms;
  });
  for (TimerEntry* e : fired_) {
    uint32_t expected = TimerEntry::kPending;
    // acq_rel: pairs with cancel_timer's CAS and with fired()'s acquire.
    if (e->state.compare_exchange_strong(expected, TimerEntry::kFired, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      // acq_rel: takes the waker the owner released in set_waker().
      Waker w(e->waker.exchange(nullptr, std::memory_order_acq_rel));
      std::move(w).wake();
    }
    // Fired or lost to a cancel, the node is unlinked: the driver is done
    // with it. (A cancel operation still to come drops the owner's only.)
    e->unref();
  }
  timers_in_wheel_.store(wheel_.size(), std::memory_order_release);
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
    const uint64_t target = next ? *next : std::numeric_limits<uint64_t>::max();
    sleep_until_ms_.store(target, std::memory_order_seq_cst);
    // Dekker with push_op/submit_timer: after publishing our target, look
    // at the stacks once more; a push we miss here saw our target.
    if (inserts_.load(std::memory_order_seq_cst) || cancels_.load(std::memory_order_seq_cst)) {
      continue;
    }
    // Stand by (wake every check interval) while any task thread is awake
    // (it may compute for long and stop polling), and for kLinger after the
    // last activity. Then sleep: the watcher (or, without one, our own
    // one-shot watch) covers I/O, and the first thread to wake sets our
    // alarm.
    const int awake = awake_task_threads();
    bool standby = awake > 0 || Clock::now() - last_active < kLinger;
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
    set_driver_io(awake == 0 && !watcher_held_.load(std::memory_order_acquire));
    const Clock::time_point now = Clock::now();
    Clock::time_point wake_at = Clock::time_point::max();
    if (next) wake_at = from_ms(*next);
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
      poll_io(0, false);
    }
    const Clock::time_point after = Clock::now();
    if (after >= next_check) {
      if (check_progress()) last_active = after;
      next_check = after + kCheckInterval;
    }
  }
}

int Reactor::wait_events(epoll_event* events, int max, Clock::time_point now,
                         Clock::time_point wake_at) noexcept {
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
  const bool watcher = watcher_held_.load(std::memory_order_acquire);
  if (seen.fresh == 0 && !watcher) poll_io(0, false);
  // A watcher that parked before anyone polled steadily (e.g. a worker that
  // went idle as soon as a ping-pong started on another) is woken by every
  // event that the polling thread then takes first: each costs the event's
  // sender a wake-up of the watcher (tcp_rtt on 2 threads: 4.2 -> 7.1 us).
  // Interrupt it once; it parks again on its futex (others_polling).
  if (seen.fresh > 0 && watcher) interrupt();
  watchdog_tick();
  return true;
}

int Reactor::poll_io(int timeout_ms, bool watcher) noexcept {
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epfd_, events, kMaxEvents, timeout_ms);
  int handled = 0;
  bool interrupt_seen = false;
  for (int i = 0; i < n; ++i) {
    const uint64_t tok = events[i].data.u64;
    if (tok == kWakeToken) {
      interrupt_seen = true;
      continue;
    }
    slab_.get(static_cast<uint32_t>(tok >> 32))
        ->on_event(static_cast<uint32_t>(tok), events[i].events);
    ++handled;
  }
  if (interrupt_seen) {
    // The watcher's interrupt eventfd is level-triggered: it stays in the
    // set's ready list, and every poller sees it, until drained. The watcher
    // drains it. Anyone else leaves it for the watcher while there is one (a
    // poll that fetched it puts it back and wakes the waiter), and drains a
    // stale one (written after its watcher had already returned) when there
    // is none, or the driver's watch would fire for it for ever. A watcher
    // that took the role meanwhile may have been interrupted by the write we
    // drained: interrupt it again (at worst a spurious wake-up).
    if (watcher) {
      drain_interrupt();
    } else if (!watcher_held_.load(std::memory_order_seq_cst)) {
      drain_interrupt();
      // seq_cst: orders this load after the drain, against the watcher's
      // CAS of the role (which precedes any unpark that interrupts it).
      if (watcher_held_.load(std::memory_order_seq_cst)) interrupt();
    }
  }
  return handled;
}

void Reactor::drain_interrupt() noexcept {
  uint64_t drained;
  [[maybe_unused]] ssize_t r = read(watch_evfd_, &drained, sizeof drained);
}

}  // namespace detail
}  // namespace weft
