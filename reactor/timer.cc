#include "reactor/timer.h"

#include <utility>

#include "executor/coop.h"
#include "reactor/reactor.h"

namespace weft {

using detail::Reactor;
using detail::TimerEntry;

// Awaits one entry: suspends until it fires, or until the Timer is re-armed
// or cancelled (which moves or takes the waker under the Timer's lock).
struct Timer::EntryWait {
  Timer* timer;
  TimerEntry* e;  // we hold a reference for the duration of the wait
  bool registered = false;
  bool await_ready() const noexcept {
    // acquire: pairs with the driver's kFired CAS / the canceller's CAS.
    return e->state.load(std::memory_order_acquire) != TimerEntry::kPending;
  }
  template <detail::WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    std::lock_guard<std::mutex> l(timer->mu_);
    if (timer->entry_ != e) return false;  // re-armed or cancelled meanwhile
    // Fails once the driver fired the entry (it closes the slot after the
    // kFired CAS): then look again instead of suspending.
    registered = e->waker.register_waker(current_waker(h));
    return registered;
  }
  void await_resume() noexcept { registered = false; }
  // Destroyed while suspended (the task was cancelled): take the Waker
  // back from our entry (the Timer itself may be gone by now; if a re-arm
  // closed the entry, the Waker moved on and withdraw does nothing, and
  // the new entry's is dropped with it).
  ~EntryWait() {
    if (registered) e->waker.withdraw();
  }
};

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

void Timer::set_at(Clock::time_point deadline) {
  Reactor& r = Reactor::get();
  auto* e = new TimerEntry();
  e->when_ms = r.to_deadline_ms(deadline);
  TimerEntry* old;
  {
    std::lock_guard<std::mutex> l(mu_);
    old = std::exchange(entry_, e);
    deadline_ = deadline;
    if (old) {
      // Move a waiting task over to the new entry, under the lock that
      // EntryWait takes to install it, so it cannot land on the old one.
      // The new entry is not shared yet: its registration cannot fail.
      if (Waker w = old->waker.close()) e->waker.register_waker(std::move(w));
    }
  }
  // Hands over the driver's reference; e may be cancelled (by another
  // thread) and freed from here on: don't touch it.
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

Task<void> Timer::wait() {
  // A timer that has fired (or is unarmed) completes at once and counts
  // against the cooperative budget (executor/coop.h); with none left, yield
  // first and look after.
  if (!detail::coop_has_budget()) co_await detail::CoopYield{};
  bool waited = false;
  for (;;) {
    TimerEntry* e;
    {
      std::lock_guard<std::mutex> l(mu_);
      e = entry_;
      if (!e) break;  // unarmed or cancelled
      e->refs.fetch_add(1, std::memory_order_relaxed);
    }
    struct Unref {
      TimerEntry* e;
      ~Unref() { e->unref(); }
    } hold{e};
    if (e->fired()) break;
    co_await EntryWait{this, e};
    waited = true;
    if (e->fired()) break;
    // Woken because the timer was re-armed or cancelled: look again.
  }
  if (!waited) detail::coop_consume();
}

void Sleep::arm(Waker w) {
  Reactor& r = Reactor::get();
  auto* e = new TimerEntry();
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

Task<Clock::time_point> Interval::tick() {
  const Clock::time_point scheduled = next_;
  co_await sleep_until(scheduled);
  const Clock::time_point now = Clock::now();
  // Saturates: a huge period means the next tick never comes.
  next_ = detail::saturating_add(scheduled, period_);
  if (next_ <= now) {
    // Skip missed ticks: the first multiple of the period after now.
    const auto behind = (now - scheduled) / period_;
    next_ = scheduled + (behind + 1) * period_;
  }
  co_return scheduled;
}

}  // namespace weft
