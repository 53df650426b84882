#include "sync/semaphore.h"

#include <cstdio>
#include <cstdlib>

namespace weft {

Semaphore::~Semaphore() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiters_.empty()) {
    std::fprintf(stderr, "weft: a Semaphore was destroyed while tasks wait for it\n");
    std::abort();
  }
}

bool Semaphore::try_take(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiters_.empty() || available_ < n) return false;  // no overtaking
  available_ -= n;
  return true;
}

std::optional<SemaphoreGuard> Semaphore::try_acquire(size_t n) {
  if (!try_take(n)) return std::nullopt;
  return SemaphoreGuard(this, n);
}

size_t Semaphore::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return available_;
}

bool Semaphore::take_or_queue(detail::SemaphoreWaiter& w, Waker waker) {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiters_.empty() && available_ >= w.permits) {
    available_ -= w.permits;
    return false;
  }
  w.waker = std::move(waker);
  waiters_.push_back(&w);
  return true;
}

void Semaphore::grant_locked(detail::WakeList& wakes) {
  while (!waiters_.empty()) {
    // Safety: waiters_ holds only the SemaphoreWaiter of AcquireAwaiters.
    auto* w = static_cast<detail::SemaphoreWaiter*>(waiters_.front());
    if (available_ < w->permits) return;  // the front waits; so does everyone
    waiters_.pop_front();
    available_ -= w->permits;
    wakes.push(detail::WaiterQueue::notify(w));  // `w` is not touched again
  }
}

void Semaphore::add_permits(size_t n) noexcept {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    available_ += n;
    grant_locked(wakes);
  }
  wakes.wake_all();
}

void Semaphore::abandon(detail::SemaphoreWaiter& w) noexcept {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: the state leaves kQueued only under mu_, which we hold.
    if (w.state.load(std::memory_order_relaxed) == detail::WaiterState::kQueued) {
      waiters_.cancel(&w);
    } else {
      // Granted but never resumed: give the permits back.
      w.mark_consumed();
      available_ += w.permits;
    }
    grant_locked(wakes);  // either way the front may be able to go now
  }
  wakes.wake_all();
}

}  // namespace weft
