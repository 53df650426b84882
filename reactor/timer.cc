#include "reactor/timer.h"

#include <utility>

#include "executor/coop.h"
#include "reactor/reactor.h"

namespace weft {

using detail::Reactor;
using detail::TimerEntry;

// Timer's lock (mu_) guards entry_ and deadline_, and is what makes these
// steps atomic with respect to each other:
//   - set_at: swap in the new entry, and move a Waker registered in the old
//     one over to it (close the old slot: a registration racing with it
//     fails, and its awaiter looks again);
//   - cancel: take entry_, close its slot (the Waker is woken after the
//     lock is released);
//   - Awaiter::register_waker: read entry_, take a reference to it (the
//     Timer's own reference keeps it alive while we hold the lock) and
//     register the Waker there.
// So a Waker is never registered in an entry the Timer has abandoned: it
// lands in the current one, or its registration fails.

bool Timer::Awaiter::register_waker(Waker w) {
  std::lock_guard<std::mutex> l(timer_->mu_);
  TimerEntry* e = timer_->entry_;
  if (!e || e->fired()) return false;  // unarmed, cancelled, or done
  // Fails once the driver fired the entry (it closes the slot after the
  // kFired CAS): then the deadline has passed, and the wait is over.
  if (!e->waker.register_waker(std::move(w))) return false;
  // The Timer's reference keeps e alive while we hold the lock.
  e->ref();
  entry_ = e;
  return true;
}

void Timer::Awaiter::release() noexcept {
  TimerEntry* e = std::exchange(entry_, nullptr);
  if (!e) return;
  // Woken: the slot was closed (fired, cancelled, or the Waker moved on to
  // a newer entry), and withdraw does nothing. Destroyed while suspended
  // (the task was cancelled): take the Waker back. If a re-arm moved it to
  // a newer entry, it stays there until that entry fires or is recycled;
  // waking a suspension that is over is a no-op (waker.h).
  e->waker.withdraw();
  // Paused time: the wake this entry delivered is taken (or, after the
  // withdraw, never will be).
  e->settle();
  e->unref();
}

Timer::Timer(Timer&& o) noexcept {
  std::lock_guard<std::mutex> l(o.mu_);
  entry_ = std::exchange(o.entry_, nullptr);
  deadline_ = o.deadline_;
}

Timer& Timer::operator=(Timer&& o) noexcept {
  if (this != &o) {
    cancel();
    std::scoped_lock l(mu_, o.mu_);
    entry_ = std::exchange(o.entry_, nullptr);
    deadline_ = o.deadline_;
  }
  return *this;
}

void Timer::arm_unshared(Clock::time_point deadline) {
  Reactor& r = Reactor::get();
  TimerEntry* e = TimerEntry::create();
  e->when_ms = r.to_deadline_ms(deadline);
  entry_ = e;
  deadline_ = deadline;
  // Hands over the driver's reference.
  r.submit_timer(e);
}

void Timer::disarm_unshared() noexcept {
  TimerEntry* old = std::exchange(entry_, nullptr);
  // Nobody awaits a Timer that is being destroyed (it must outlive its
  // awaits), but a Waker left by an awaiter destroyed while suspended may
  // still sit in the slot: close() takes it, and it is dropped here.
  Waker w = old->waker.close();
  Reactor::get().cancel_timer(old);
  std::move(w).wake();
}

void Timer::set_at(Clock::time_point deadline) {
  Reactor& r = Reactor::get();
  TimerEntry* e = TimerEntry::create();
  e->when_ms = r.to_deadline_ms(deadline);
  TimerEntry* old;
  {
    std::lock_guard<std::mutex> l(mu_);
    old = std::exchange(entry_, e);
    deadline_ = deadline;
    if (old) {
      // Move a waiting task over to the new entry, under the lock that
      // Awaiter::register_waker takes to install it, so it cannot land on
      // the old one. The new entry is not shared yet: its registration
      // cannot fail.
      if (Waker w = old->waker.close()) e->waker.register_waker(std::move(w));
    }
  }
  // Hands over the driver's reference; e may be cancelled (by another
  // thread) and recycled from here on: don't touch it.
  r.submit_timer(e);
  if (old) {
    r.cancel_timer(old);
  }
}

void Timer::cancel() noexcept {
  TimerEntry* old;
  Waker w;
  {
    std::lock_guard<std::mutex> l(mu_);
    old = std::exchange(entry_, nullptr);
    if (old) w = old->waker.close();
  }
  if (old) {
    Reactor::get().cancel_timer(old);
    std::move(w).wake();  // a waiting task sees the timer disarmed
  }
}

bool Timer::fired() const noexcept {
  std::lock_guard<std::mutex> l(mu_);
  return entry_ && entry_->fired();
}

Clock::time_point Timer::deadline() const noexcept {
  std::lock_guard<std::mutex> l(mu_);
  return deadline_;
}

void Sleep::arm(Waker w) {
  Reactor& r = Reactor::get();
  TimerEntry* e = TimerEntry::create();
  e->when_ms = r.to_deadline_ms(deadline_);
  // Not shared yet: the registration cannot fail.
  e->waker.register_waker(std::move(w));
  entry_ = e;
  // Hands over the driver's reference. The waker is in place first: the
  // entry may fire (and wake us) before submit_timer returns.
  r.submit_timer(e);
}

Sleep::~Sleep() {
  if (!entry_) return;
  // Fired: just drop our reference. Not fired (cancelled task): cancel,
  // which consumes it.
  if (entry_->fired()) {
    entry_->unref();
  } else {
    Reactor::get().cancel_timer(entry_);
  }
}

Interval::Interval(Clock::duration period, Clock::time_point start)
    : period_(period > Clock::duration::zero() ? period : Clock::duration(1)), next_(start) {}

void Interval::advance(Clock::time_point scheduled) noexcept {
  const Clock::time_point now = detail::clock_now();
  // Saturates: a huge period means the next tick never comes.
  next_ = detail::saturating_add(scheduled, period_);
  if (next_ <= now) {
    // Skip missed ticks: the first multiple of the period after now.
    const auto behind = (now - scheduled) / period_;
    next_ = scheduled + (behind + 1) * period_;
  }
}

}  // namespace weft
