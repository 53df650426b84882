// How task threads find I/O events: the non-blocking poll they make before
// parking, and the watcher, the one parked thread that sleeps in
// epoll_wait on the I/O set (see reactor.h, "Who finds I/O events").
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>

#include "executor/parker.h"
#include "executor/task_threads.h"
#include "reactor/reactor.h"
#include "reactor/reactor_internal.h"

namespace weft {
namespace detail {
namespace {

// Set by hook_poll_before_park when it skipped the calling thread's poll
// because the thread was expected to park as the watcher; cleared when the
// thread makes that look after all: the watcher's wait (block()), or the
// poll park_task_thread makes instead when the thread does not wait in
// epoll_wait (it parks on its futex, or a pending permit ends its park at
// once). Owner thread only. Left set when the caller found work and did not
// park: the thread's next park then makes one poll that is not needed.
thread_local bool t_poll_owed = false;

}  // namespace

int Reactor::hook_poll() noexcept {
  Reactor* r = reactor_for_hooks();
  if (!r->has_registrations()) return 0;
  t_poll_owed = false;  // this is that look
  return r->poll_io(0, false, task_poll_counters());
}

int Reactor::hook_poll_before_park(TaskThread* self) noexcept {
  Reactor* r = reactor_for_hooks();
  if (!r->has_registrations()) return 0;
  // About to park as the watcher: its blocking epoll_wait returns at once
  // with whatever this poll would find (nobody takes edge-triggered events
  // off the ready list but a poller, and every poller wakes the tasks of
  // what it takes), so the poll is one syscall per wake-up for nothing
  // (an idle server's round trip was epoll_wait (woken), read, sendto and
  // this poll; tokio's is 3 calls). If the thread does not wait in
  // epoll_wait after all, park_task_thread polls instead.
  //
  // Not for a thread that polls steadily (fresh: it polled in each of the
  // last two check intervals): it serves a busy exchange, where this poll
  // usually finds events and the thread does not park at all; parking to
  // find them would cost the park's bookkeeping, and the driver interrupts
  // a watcher while a fresh thread exists (tcp_rtt: 0.4 more syscalls per
  // round trip). relaxed: a hint written by the driver (task_threads.h).
  if (!self->fresh.load(std::memory_order_relaxed) && r->may_watch(self)) {
    t_poll_owed = true;
    // The poll would have made this thread's counters (a registration that
    // allocates, once per thread): make them now, so that a warm thread's
    // later polls allocate nothing (tests/io_alloc_test).
    task_poll_counters();
    return 0;
  }
  return r->poll_io(0, false, task_poll_counters());
}

void Reactor::hook_park(TaskThread* self, Parker& parker) noexcept {
  reactor_for_hooks()->park_task_thread(self, parker);
}

bool Reactor::has_registrations() const noexcept {
  // No fd registered: there is nothing to find, so no syscall (a program
  // that only computes, or only uses timers, polls nothing: executor_bench's
  // spawn and yield loops made one epoll_wait per 61 tasks for nothing).
  // relaxed: a registration this load does not see yet loses no event. The
  // registering thread sees its own increment (it precedes this load in
  // that thread's order). Another thread sees it at a later poll; until
  // then the fd is covered as every moment without a poll is: by the
  // watcher (parking does not look at this: an idle thread still waits in
  // epoll_wait on the I/O set, registrations or not), by the driver's checks
  // while threads are awake (it polls when none did for two intervals), or
  // by its own watch while they all sleep.
  return live_regs_.load(std::memory_order_relaxed) != 0;
}

bool Reactor::may_watch(const TaskThread* self) const noexcept {
  // Watch I/O from epoll_wait if nobody does and no other awake thread is
  // polling: then an event wakes this thread, which runs its task (one hop
  // instead of driver + worker). While another thread polls, a watcher would
  // only be woken for events that thread takes first.
  // relaxed: a hint; the CAS in park_task_thread decides.
  return !watcher_held_.load(std::memory_order_relaxed) &&
         (awake_task_threads() == 0 || !others_polling(self));
}

void Reactor::park_task_thread(TaskThread* self, Parker& parker) noexcept {
  if (may_watch(self)) {
    bool expected = false;
    // acquire: pairs with the release store below by the previous watcher.
    if (watcher_held_.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
      parker.park_in(*this);  // block() pays the poll it owed, if it runs
      // release: pairs with the CAS above and with the driver's loads.
      watcher_held_.store(false, std::memory_order_release);
      // A pending permit ended the park before block() ran: make the poll
      // we skipped, as the thread is awake again and may now compute for
      // long (the driver would find the events, but later).
      if (t_poll_owed) {
        t_poll_owed = false;
        poll_io(0, false, task_poll_counters());
      }
      return;
    }
  }
  // Parking on the futex: nobody may be looking at I/O, so make the poll we
  // skipped, and skip the park if it found work (a spurious return from
  // park: the woken tasks are queued on this thread, as a watcher's are).
  if (t_poll_owed) {
    t_poll_owed = false;
    if (poll_io(0, false, task_poll_counters()) > 0) return;
  }
  parker.park();
}

void Reactor::block() noexcept {
  t_poll_owed = false;  // this wait finds what that poll would have
  // Events wake their tasks onto this thread's own queue; an interrupt (our
  // unpark) just returns.
  poll_io(-1, /*watcher=*/true, watcher_counters_.poll);
}

void Reactor::interrupt() noexcept {
  uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable: fine.
  [[maybe_unused]] ssize_t n = write(watch_evfd_, &one, sizeof one);
}

int Reactor::poll_io(int timeout_ms, bool watcher, PollCounters& counters) noexcept {
  epoll_event events[kMaxEvents];
  // Counted before the wait: a watcher seen counted is in (or about to
  // enter) its wait, so an interrupt from then on ends it.
  bump(counters.polls);
  const int n = epoll_wait(epfd_, events, kMaxEvents, timeout_ms);
  int handled = 0;
  int woken = 0;
  bool interrupt_seen = false;
  for (int i = 0; i < n; ++i) {
    const uint64_t tok = events[i].data.u64;
    if (tok == kWakeToken) {
      interrupt_seen = true;
      continue;
    }
    woken += slab_.get(static_cast<uint32_t>(tok >> 32))
                 ->on_event(static_cast<uint32_t>(tok), events[i].events);
    ++handled;
  }
  if (handled) {
    bump(counters.events, static_cast<uint64_t>(handled));
    bump(counters.wakes, static_cast<uint64_t>(woken));
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
      bump(watcher_counters_.interrupts);
      drain_interrupt();
    } else if (!watcher_held_.load(std::memory_order_seq_cst)) {  // see the next comment
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
