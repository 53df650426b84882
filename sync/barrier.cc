#include "sync/barrier.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace weft {

Barrier::Barrier(size_t n) : parties_(n) {
  if (n == 0) throw std::invalid_argument("weft: a Barrier needs at least one party");
}

Barrier::~Barrier() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiting_.empty()) {
    std::fprintf(stderr, "weft: a Barrier was destroyed while tasks wait for it\n");
    std::abort();
  }
}

bool Barrier::arrive_or_queue(detail::Waiter& w, Waker waker) {
  detail::WakeList wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_.size() + 1 < parties_) {
      w.waker = std::move(waker);
      waiting_.push_back(&w);
      return false;
    }
    // The last arrival: release the phase; the queue starts the next one.
    while (detail::Waiter* other = waiting_.pop_front()) {
      wakes.push(detail::WaiterQueue::notify(other));
    }
  }
  wakes.wake_all();
  return true;
}

void Barrier::abandon(detail::Waiter& w) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  // relaxed: the state leaves kQueued only under mu_, which we hold.
  if (w.state.load(std::memory_order_relaxed) == detail::WaiterState::kQueued) {
    waiting_.cancel(&w);  // withdraws the arrival
  } else {
    w.mark_consumed();  // its phase completed: nothing to undo
  }
}

}  // namespace weft
