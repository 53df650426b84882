// Paused time (time_control.h): the advance requests, and the driver's side
// of the paused clock (Reactor::step_paused_clock and friends).
//
// Protocol, one driver turn while paused (driver.cc):
//   1. run_timers() fires what is due at the frozen instant, marking each
//      wake unsettled (timer_entry.h).
//   2. step_paused_clock(): if nobody waits for time to move (no advance
//      request, no auto-advance with a timer pending), nothing to do. If
//      the runtime is not settled (a timer wake or an advance completion
//      not taken yet, a task thread awake, timer operations queued), wait:
//      the driver stands by and looks again every check interval
//      (kCheckInterval, 0.5 ms: never a busy loop). Otherwise move the
//      clock to the next timer deadline within the earliest request's
//      target (auto-advance: with no request, to the next deadline) and
//      go back to 1; with no deadline before the target, move to the
//      target and complete every request it reaches.
//   3. Timer waits do not count on the wall clock while paused
//      (timer_wake_at): the driver sleeps on real events only.
// Lock order: the requests' lock, then the clock's (base/clock.cc).
#include "reactor/time_control.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "executor/task_threads.h"
#include "reactor/reactor.h"

namespace weft {
namespace detail {
namespace {

struct AdvanceRequests {
  std::mutex mu;
  time::Advance* head = nullptr;  // guarded by mu
};

AdvanceRequests& requests() {
  // Leaked, like the reactor: used by its driver thread until exit.
  static AdvanceRequests* r = new AdvanceRequests();
  return *r;
}

// Whether auto-advance is on. relaxed both ways: a setting the driver reads
// on its next turn (set_auto_advance wakes it).
std::atomic<bool> g_auto_advance{false};
// Completed advances whose wake is not taken yet. seq_cst: read in
// settled() before the awake count, like TimerEntry::unsettled_wakes().
std::atomic<int> g_unsettled_advances{0};

[[noreturn]] void misuse(const char* what) {
  std::fprintf(stderr, "weft::time: %s\n", what);
  std::abort();
}

}  // namespace

bool Reactor::settled() const noexcept {
  // seq_cst, in this order (timer_entry.cc, g_unsettled): a wake taken is
  // followed by its thread's park; seeing both counts at zero means the
  // woken tasks ran and their threads went idle, after queueing any timer
  // they armed, which the last two loads then see.
  if (TimerEntry::unsettled_wakes() != 0) return false;
  if (g_unsettled_advances.load(std::memory_order_seq_cst) != 0) return false;
  if (awake_task_threads() != 0) return false;
  return inserts_.empty() && cancels_.empty();
}

bool Reactor::paused_clock_pending(bool has_timers) const noexcept {
  if (!clock_paused()) return false;  // one relaxed load while never paused
  if (has_timers && g_auto_advance.load(std::memory_order_relaxed)) return true;
  AdvanceRequests& q = requests();
  std::lock_guard<std::mutex> l(q.mu);
  return q.head != nullptr;
}

Reactor::Clock::time_point Reactor::timer_wake_at(std::optional<uint64_t> next,
                                                  Clock::time_point real_now) const noexcept {
  if (!next) return Clock::time_point::max();
  // relaxed: see clock_now(). Never paused: weft's clock is the real one.
  if (!g_clock_adjusted.load(std::memory_order_relaxed)) [[likely]] return from_ms(*next);
  // Paused: the deadline comes only by advance() or auto-advance, which
  // wake the driver; the wall clock never brings it.
  if (clock_paused()) return Clock::time_point::max();
  // Resumed: weft's clock runs at the real rate with an offset.
  const Clock::time_point at = from_ms(*next);
  if (at == Clock::time_point::max()) return at;
  return saturating_add(real_now, at - clock_now());
}

bool Reactor::step_paused_clock(std::optional<uint64_t> next) noexcept {
  if (!clock_paused()) return false;  // one relaxed load while never paused
  std::vector<Waker> done;
  {
    AdvanceRequests& q = requests();
    std::lock_guard<std::mutex> l(q.mu);
    const bool auto_advance = g_auto_advance.load(std::memory_order_relaxed);
    if (q.head == nullptr && !(auto_advance && next)) return false;
    if (!settled()) return false;
    std::optional<Clock::time_point> goal;
    for (time::Advance* a = q.head; a; a = a->next_) {
      if (!goal || a->target_ < *goal) goal = a->target_;
    }
    if (next) {
      // next_expiration() is never later than the earliest deadline (it
      // may be a higher wheel level's slot, which the poll cascades), so
      // stepping there never passes a deadline.
      const Clock::time_point at = from_ms(*next);
      if (goal ? at <= *goal : auto_advance) return clock_advance_to(at);
    }
    if (!goal) return false;
    clock_advance_to(*goal);
    const Clock::time_point now = clock_now();
    for (time::Advance* a = q.head; a;) {
      time::Advance* n = a->next_;
      if (a->target_ <= now) {
        if (a->prev_) a->prev_->next_ = a->next_; else q.head = a->next_;
        if (a->next_) a->next_->prev_ = a->prev_;
        a->linked_ = false;
        a->unsettled_ = true;
        // seq_cst: see g_unsettled_advances.
        g_unsettled_advances.fetch_add(1, std::memory_order_seq_cst);
        done.push_back(std::move(a->waker_));
      }
      a = n;
    }
  }
  // Woken after the lock (STYLE 6).
  for (Waker& w : done) std::move(w).wake();
  return false;
}

}  // namespace detail

namespace time {

using detail::AdvanceRequests;
using detail::Reactor;

void pause() {
  Reactor& r = Reactor::get();
  if (detail::clock_pause()) {
    // Start on a whole millisecond of the reactor's time base (rounded up:
    // the clock never goes back), so deadlines a whole number of
    // milliseconds away are exact in the 1 ms wheel.
    detail::clock_advance_to(r.from_ms(r.to_deadline_ms(detail::clock_now())));
  }
}

void resume() {
  std::vector<Waker> done;
  {
    AdvanceRequests& q = detail::requests();
    std::lock_guard<std::mutex> l(q.mu);
    if (!detail::clock_resume()) return;
    // Pending advances are over: time moves by itself again.
    for (Advance* a = q.head; a; a = a->next_) {
      a->linked_ = false;
      a->unsettled_ = true;
      detail::g_unsettled_advances.fetch_add(1, std::memory_order_seq_cst);
      done.push_back(std::move(a->waker_));
    }
    q.head = nullptr;
  }
  for (Waker& w : done) std::move(w).wake();
  // The driver may sleep with no timeout: it must look at its timers again.
  Reactor::get().wake();
}

bool paused() noexcept { return detail::clock_paused(); }

void set_auto_advance(bool on) noexcept {
  // relaxed: see g_auto_advance; the wake makes the driver look now.
  detail::g_auto_advance.store(on, std::memory_order_relaxed);
  Reactor::get().wake();
}

void Advance::submit(Waker w) {
  Reactor& r = Reactor::get();
  {
    AdvanceRequests& q = detail::requests();
    std::lock_guard<std::mutex> l(q.mu);
    if (!detail::clock_paused()) {
      detail::misuse("advance() while time is not paused: call weft::time::pause() first");
    }
    target_ = detail::saturating_add(detail::clock_now(), by_);
    waker_ = std::move(w);
    prev_ = nullptr;
    next_ = q.head;
    if (q.head) q.head->prev_ = this;
    q.head = this;
    linked_ = true;
  }
  r.wake();
}

void Advance::settle() noexcept {
  AdvanceRequests& q = detail::requests();
  std::lock_guard<std::mutex> l(q.mu);
  if (unsettled_) {
    unsettled_ = false;
    // seq_cst: see g_unsettled_advances.
    detail::g_unsettled_advances.fetch_sub(1, std::memory_order_seq_cst);
  }
}

Advance::~Advance() {
  Waker dropped;
  {
    AdvanceRequests& q = detail::requests();
    std::lock_guard<std::mutex> l(q.mu);
    if (linked_) {
      if (prev_) prev_->next_ = next_; else q.head = next_;
      if (next_) next_->prev_ = prev_;
      linked_ = false;
      dropped = std::move(waker_);
    }
    if (unsettled_) {
      unsettled_ = false;
      detail::g_unsettled_advances.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  // `dropped` goes after the lock: dropping a Waker may free its task.
}

}  // namespace time
}  // namespace weft
