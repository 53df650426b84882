#include "sync/wait_group.h"

#include <cstdio>
#include <cstdlib>

namespace weft {

WaitGroup::~WaitGroup() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiters_.empty()) {
    std::fprintf(stderr, "weft: a WaitGroup was destroyed while tasks wait for it\n");
    std::abort();
  }
}

void WaitGroup::add(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  count_ += n;
}

void WaitGroup::done() {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_ == 0) {
      std::fprintf(stderr, "weft: WaitGroup::done() called more often than add() counted\n");
      std::abort();
    }
    if (--count_ == 0) {
      while (detail::Waiter* w = waiters_.pop_front()) wakes.push(detail::WaiterQueue::notify(w));
    }
  }
  wakes.wake_all();
}

size_t WaitGroup::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

bool WaitGroup::wait_or_queue(detail::Waiter& w, Waker waker) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) return false;
  w.waker = std::move(waker);
  waiters_.push_back(&w);
  return true;
}

void WaitGroup::abandon(detail::Waiter& w) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  // relaxed: the state leaves kQueued only under mu_, which we hold.
  if (w.state.load(std::memory_order_relaxed) == detail::WaiterState::kQueued) {
    waiters_.cancel(&w);
  } else {
    w.mark_consumed();  // woken at zero: nothing to pass on
  }
}

}  // namespace weft
