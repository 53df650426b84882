#include "sync/mutex.h"

#include <cstdio>
#include <cstdlib>

namespace weft {

Mutex::~Mutex() {
  std::lock_guard<std::mutex> lock(mu_);
  if (locked_ || !waiters_.empty()) {
    std::fprintf(stderr, "weft: a Mutex was destroyed while %s\n",
                 waiters_.empty() ? "locked" : "tasks wait for it");
    std::abort();
  }
}

bool Mutex::try_acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (locked_) return false;  // held, or handed to a waiter
  locked_ = true;
  return true;
}

std::optional<MutexGuard> Mutex::try_lock() {
  if (!try_acquire()) return std::nullopt;
  return MutexGuard(this);
}

bool Mutex::is_locked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return locked_;
}

bool Mutex::acquire_or_queue(detail::Waiter& w, Waker waker) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!locked_) {
    locked_ = true;
    return false;  // `waker` is dropped after the lock is released
  }
  w.waker = std::move(waker);
  waiters_.push_back(&w);
  return true;
}

Waker Mutex::release_locked() {
  if (detail::Waiter* w = waiters_.pop_front()) {
    // locked_ stays true: the lock now belongs to `w`.
    return detail::WaiterQueue::notify(w);
  }
  locked_ = false;
  return Waker();
}

void Mutex::unlock() noexcept {
  Waker wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake = release_locked();
  }
  std::move(wake).wake();
}

void Mutex::abandon(detail::Waiter& w) noexcept {
  Waker wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: the state leaves kQueued only under mu_, which we hold.
    if (w.state.load(std::memory_order_relaxed) == detail::WaiterState::kQueued) {
      waiters_.cancel(&w);
      return;
    }
    // The lock was handed to us but we never resumed: pass it on.
    w.mark_consumed();
    wake = release_locked();
  }
  std::move(wake).wake();
}

}  // namespace weft
