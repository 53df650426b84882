#include "sync/rw_lock.h"

#include <cstdio>
#include <cstdlib>

namespace weft {

RwLock::~RwLock() {
  std::lock_guard<std::mutex> lock(mu_);
  if (readers_ != 0 || writer_ || !waiters_.empty()) {
    std::fprintf(stderr, "weft: an RwLock was destroyed while %s\n",
                 waiters_.empty() ? "locked" : "tasks wait for it");
    std::abort();
  }
}

bool RwLock::try_acquire(bool write) {
  std::lock_guard<std::mutex> lock(mu_);
  // Nobody may overtake a waiter, so a non-empty queue means no.
  if (!waiters_.empty() || !can_take_locked(write)) return false;
  if (write) writer_ = true; else ++readers_;
  return true;
}

std::optional<ReadGuard> RwLock::try_read() {
  if (!try_acquire(false)) return std::nullopt;
  return ReadGuard(this);
}

std::optional<WriteGuard> RwLock::try_write() {
  if (!try_acquire(true)) return std::nullopt;
  return WriteGuard(this);
}

bool RwLock::acquire_or_queue(detail::RwWaiter& w, Waker waker) {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiters_.empty() && can_take_locked(w.writer)) {
    if (w.writer) writer_ = true; else ++readers_;
    return false;
  }
  w.waker = std::move(waker);
  waiters_.push_back(&w);
  return true;
}

void RwLock::grant_locked(detail::WakeList& wakes) {
  while (!waiters_.empty()) {
    // Safety: waiters_ holds only the RwWaiter of RwLock::Awaiters.
    auto* w = static_cast<detail::RwWaiter*>(waiters_.front());
    if (!can_take_locked(w->writer)) return;
    waiters_.pop_front();
    if (w->writer) writer_ = true; else ++readers_;
    wakes.push(detail::WaiterQueue::notify(w));  // `w` is not touched again
  }
}

void RwLock::release_locked(bool write, detail::WakeList& wakes) {
  if (write) writer_ = false; else --readers_;
  grant_locked(wakes);
}

void RwLock::release(bool write) noexcept {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    release_locked(write, wakes);
  }
  wakes.wake_all();
}

void RwLock::abandon(detail::RwWaiter& w) noexcept {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: the state leaves kQueued only under mu_, which we hold.
    if (w.state.load(std::memory_order_relaxed) == detail::WaiterState::kQueued) {
      waiters_.cancel(&w);
      grant_locked(wakes);  // a writer at the front may have held others back
    } else {
      // Granted but never resumed: give the grant back.
      w.mark_consumed();
      release_locked(w.writer, wakes);
    }
  }
  wakes.wake_all();
}

}  // namespace weft
