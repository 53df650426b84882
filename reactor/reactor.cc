// The reactor's construction, fd registration and timer operations. The
// driver thread's loop is in driver.cc, polling and the watcher in
// io_poll.cc.
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
#include "base/clock.h"
#include "base/deadline.h"
#include "base/errno_status.h"
#include "executor/task_threads.h"
#include "reactor/reactor_internal.h"

namespace weft {
namespace detail {
namespace {

// Queued cancel operations after which a canceller wakes the driver even
// though no deadline moved: bounds the memory of a create-and-cancel storm
// whose cancels cannot take their inserts back (timer_op_stack.h).
constexpr uint32_t kOpsBeforeWake = 4096;

uint64_t token(uint32_t index, uint32_t generation) {
  return (uint64_t{index} << 32) | generation;
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
  if (live_) {
    live_ = false;
    Reactor::get().deregister(io_, index_);
  }
}

namespace {
// Set once by the constructor; read by the task-thread hooks.
std::atomic<Reactor*> g_reactor{nullptr};
}  // namespace

Reactor* reactor_for_hooks() noexcept {
  // acquire: pairs with the release store in the constructor.
  return g_reactor.load(std::memory_order_acquire);
}

void die(const char* what) {
  std::fprintf(stderr, "weft: reactor: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

Reactor& Reactor::get() {
  // Leaked: the driver thread and late deregistrations may outlive statics.
  static Reactor* r = new Reactor();
  return *r;
}

// start_ is on weft's clock (base/clock.h), like every deadline.
Reactor::Reactor() : start_(clock_now()), wheel_(0) {
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
  static const ReactorHooks kHooks = {&Reactor::hook_poll, &Reactor::hook_poll_before_park,
                                      &Reactor::hook_park, &Reactor::hook_first_awake};
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
        return errno_status(err, absl::StrCat("registering fd ", fd));
    }
  }
  // relaxed: a statistic for tests, read after synchronizing otherwise.
  live_regs_.fetch_add(1, std::memory_order_relaxed);
  // relaxed: a statistic (metrics()); many threads register.
  regs_total_.fetch_add(1, std::memory_order_relaxed);
  return IoRegistration(io, index, gen);
}

void Reactor::deregister(ScheduledIo* io, uint32_t index) noexcept {
  // The fd is still open, and its number still ours: the owner closes it
  // only after this returns. Remove it so no new events arrive (events
  // already fetched carry the old generation).
  epoll_ctl(epfd_, EPOLL_CTL_DEL, io->fd(), nullptr);
  // Fails every later pin, wakes the waiters, and waits for the operations
  // in flight on other threads (scheduled_io.h, the close protocol).
  io->shut_down();
  // Only now may the record serve another fd.
  slab_.release(index);
  live_regs_.fetch_sub(1, std::memory_order_relaxed);
}

// --- timers ------------------------------------------------------------

uint64_t Reactor::now_ms() const noexcept {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_now() - start_).count());
}

uint64_t Reactor::to_deadline_ms(Clock::time_point t) const noexcept {
  if (t <= start_) return 0;
  // t - start_ cannot overflow: both are in range and t > start_ >= 0. The
  // result is at most ~9.2e12 ms (time_point::max(), "never"), which the
  // wheel accepts (it clamps to its top level and re-places).
  const uint64_t ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count());
  // Round up (never early), without adding to ns near its maximum.
  return ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);
}

Reactor::Clock::time_point Reactor::from_ms(uint64_t ms) const noexcept {
  // Saturates: a far deadline's milliseconds do not fit in nanoseconds.
  if (ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Clock::time_point::max();
  return detail::saturating_add(start_, std::chrono::milliseconds(static_cast<int64_t>(ms)));
}

void Reactor::submit_timer(TimerEntry* e) noexcept {
  // Read before the push: once pushed, the driver may free a cancelled entry.
  const uint64_t deadline = e->when_ms;
  inserts_.push(e);  // seq_cst: see timer_op_stack.h (Dekker)
  // seq_cst: the other half of the Dekker pair in push().
  uint64_t target = sleep_until_ms_.load(std::memory_order_seq_cst);
  while (deadline < target) {
    // Only the thread that lowers the target wakes the driver.
    if (sleep_until_ms_.compare_exchange_weak(target, deadline, std::memory_order_seq_cst)) {
      wake_driver();
      return;
    }
  }
}

void Reactor::cancel_timer(TimerEntry* e) noexcept {
  // Our insert is still on top of the stack (the common "arm, then cancel
  // soon" of a timeout that did not expire): take it back. The driver never
  // saw e and never will, so it cannot fire; both references are ours,
  // and e is recycled here, into this thread's cache.
  if (inserts_.unpush(e)) {
    // relaxed: no other thread moves this state any more (only the driver
    // does, and it never saw e); Timer awaiters holding a reference read it
    // only as "not fired", which kPending already said.
    e->state.store(TimerEntry::kCancelled, std::memory_order_relaxed);
    // The owner's and the driver's reference; an awaiter may hold a third.
    e->unref(2);
    return;
  }
  uint32_t expected = TimerEntry::kPending;
  // acq_rel: pairs with the driver's CAS to kFired; exactly one wins.
  if (e->state.compare_exchange_strong(expected, TimerEntry::kCancelled,
                                       std::memory_order_acq_rel, std::memory_order_acquire)) {
    // Our reference travels with the cancel operation.
    cancels_.push(e);
    // relaxed: a count; the driver resets it when it takes the stacks.
    if (pending_cancels_.fetch_add(1, std::memory_order_relaxed) + 1 == kOpsBeforeWake) {
      wake_driver();
    }
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
  // acquire (take): pairs with push's release (timer_op_stack.h).
  TimerEntry* ins = inserts_.take();
  TimerEntry* can = cancels_.take();
  // relaxed: a count (cancel_timer).
  pending_cancels_.store(0, std::memory_order_relaxed);
  for (TimerEntry* e = ins; e;) {
    TimerEntry* next = e->next_insert;
    bump(driver_counters_.timers_armed);
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
    bump(driver_counters_.timers_cancelled);  // each won its cancel CAS
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
  // Paused time (time_control.h): each wake stays "unsettled" until its
  // task takes it; the clock does not move on before.
  const bool paused = clock_paused();
  for (TimerEntry* e : fired_) {
    uint32_t expected = TimerEntry::kPending;
    Waker w;
    if (paused) e->mark_unsettled();
    // acq_rel: pairs with cancel_timer's CAS and with fired()'s acquire.
    if (e->state.compare_exchange_strong(expected, TimerEntry::kFired, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      // The close takes the Waker the owner registered (atomic_waker.h).
      w = e->waker.close();
      // Before the wake: the woken task sees itself counted.
      bump(driver_counters_.timers_fired);
    }
    if (paused && !w) e->settle();  // nobody to take the wake
    // Fired or lost to a cancel, the node is unlinked: the driver is done
    // with it. (A cancel operation still to come drops the owner's only.)
    // Dropped before the wake: the woken task then drops the last
    // reference itself, and the entry goes back to the cache of the thread
    // that will arm the next one (timer_entry.h, "Recycling").
    e->unref();
    std::move(w).wake();
  }
  timers_in_wheel_.store(wheel_.size(), std::memory_order_release);
}

ReactorMetrics Reactor::metrics() const noexcept {
  ReactorMetrics m;
  // relaxed: statistics, read in no particular order (metrics.h).
  m.registrations = live_regs_.load(std::memory_order_relaxed);
  m.registrations_total = regs_total_.load(std::memory_order_relaxed);
  const DriverCounters& d = driver_counters_;
  const WatcherCounters& w = watcher_counters_;
  const PollTotals t = task_poll_totals();
  m.task_polls = t.polls;
  m.watcher_waits = count_of(w.poll.polls);
  m.watcher_interrupts = count_of(w.interrupts);
  m.driver_busy_polls = count_of(d.busy_polls);
  m.driver_watch_polls = count_of(d.watch_polls);
  m.io_events = t.events + count_of(w.poll.events) + count_of(d.poll.events);
  m.io_wakes = t.wakes + count_of(w.poll.wakes) + count_of(d.poll.wakes);
  m.driver_waits = count_of(d.waits);
  m.driver_checks = count_of(d.checks);
  m.timers_armed = count_of(d.timers_armed);
  m.timers_fired = count_of(d.timers_fired);
  m.timers_cancelled = count_of(d.timers_cancelled);
  m.timers_pending = timers_in_wheel_.load(std::memory_order_relaxed);
  return m;
}

}  // namespace detail
}  // namespace weft
