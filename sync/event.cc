#include "sync/event.h"

#include <cstdio>
#include <cstdlib>

namespace weft {

Event::~Event() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiters_.empty()) {
    std::fprintf(stderr, "weft: an Event was destroyed while tasks wait for it\n");
    std::abort();
  }
}

bool Event::wait_or_queue(detail::EventWaiter& w, uint64_t epoch, Waker waker) {
  std::lock_guard<std::mutex> lock(mu_);
  // relaxed: written only under mu_, which we hold.
  if (epoch_.load(std::memory_order_relaxed) != epoch) return false;  // a notify_all
  if (permit_) {
    permit_ = false;
    return false;
  }
  w.waker = std::move(waker);
  waiters_.push_back(&w);
  return true;
}

Waker Event::notify_one_locked() {
  // Safety: waiters_ holds only the EventWaiter of Event::Awaiters.
  if (auto* w = static_cast<detail::EventWaiter*>(waiters_.pop_front())) {
    w->by_one = true;
    return detail::WaiterQueue::notify(w);
  }
  permit_ = true;
  return Waker();
}

void Event::notify_one() noexcept {
  Waker wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake = notify_one_locked();
  }
  std::move(wake).wake();
}

void Event::notify_all() noexcept {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // release: pairs with the acquire load in Awaiter's constructor.
    epoch_.fetch_add(1, std::memory_order_release);
    // Safety: waiters_ holds only EventWaiters (see notify_one_locked).
    while (auto* w = static_cast<detail::EventWaiter*>(waiters_.pop_front())) {
      w->by_one = false;
      wakes.push(detail::WaiterQueue::notify(w));
    }
  }
  wakes.wake_all();
}

void Event::abandon(detail::EventWaiter& w) noexcept {
  Waker wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: the state leaves kQueued only under mu_, which we hold.
    if (w.state.load(std::memory_order_relaxed) == detail::WaiterState::kQueued) {
      waiters_.cancel(&w);
    } else {
      w.mark_consumed();
      // A notify_one chose this waiter, which will never see it: pass it on.
      if (w.by_one) wake = notify_one_locked();
    }
  }
  std::move(wake).wake();
}

}  // namespace weft
