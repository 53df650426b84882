#include "reactor/scheduled_io.h"

#include <sys/epoll.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace weft {
namespace detail {
namespace {
uint32_t bits_from_epoll(uint32_t ev) noexcept {
  uint32_t b = 0;
  if (ev & (EPOLLIN | EPOLLPRI)) b |= ready::kReadable;
  if (ev & EPOLLOUT) b |= ready::kWritable;
  if (ev & EPOLLRDHUP) b |= ready::kReadClosed;
  if (ev & EPOLLHUP) b |= ready::kReadClosed | ready::kWriteClosed;
  if (ev & EPOLLERR) b |= ready::kError;
  return b;
}
}  // namespace

void ScheduledIo::reset_for(int fd) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = fd;
  shutdown_ = false;
  waiters_ = nullptr;
  uint64_t tick = readiness_.load(std::memory_order_relaxed) >> ready::kTickShift;
  // release: pairs with readiness()'s acquire.
  readiness_.store(((tick + 1) << ready::kTickShift) | ready::kReadable | ready::kWritable,
                   std::memory_order_release);
}

int ScheduledIo::on_event(uint32_t generation, uint32_t epoll_events) noexcept {
  const uint32_t bits = bits_from_epoll(epoll_events);
  // Wakers are collected here and woken after the lock is released. Events
  // usually satisfy one or two waiters: a small inline array avoids a heap
  // allocation on the driver's hot path.
  constexpr int kInline = 8;
  Waker inline_wakers[kInline];
  std::vector<Waker> more;
  int n = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // relaxed: the generation is bumped under mu_, which we hold.
    if (generation_of(state_.load(std::memory_order_relaxed)) != generation || shutdown_) return 0;
    uint64_t cur = readiness_.load(std::memory_order_relaxed);
    uint64_t next = (((cur >> ready::kTickShift) + 1) << ready::kTickShift) |
                    ((cur | bits) & ready::kMask);
    // release: pairs with readiness()'s acquire (see there).
    readiness_.store(next, std::memory_order_release);
    for (IoWaiter* w = waiters_; w;) {
      IoWaiter* after = w->next;
      if (w->interest & bits) {
        if (w->prev) w->prev->next = w->next; else waiters_ = w->next;
        if (w->next) w->next->prev = w->prev;
        w->prev = w->next = nullptr;
        w->linked = false;
        if (n < kInline) inline_wakers[n++] = std::move(w->waker);
        else more.push_back(std::move(w->waker));
      }
      w = after;
    }
  }
  for (int i = 0; i < n; ++i) std::move(inline_wakers[i]).wake();
  for (auto& w : more) std::move(w).wake();
  return n + static_cast<int>(more.size());
}

void ScheduledIo::shut_down() noexcept {
  std::vector<Waker> wakers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    // release: pairs with generation()'s and pin()'s acquire. An RMW, not a
    // store: pins change the count in the same word concurrently.
    state_.fetch_add(kGenerationOne, std::memory_order_release);
    for (IoWaiter* w = waiters_; w;) {
      IoWaiter* after = w->next;
      w->prev = w->next = nullptr;
      w->linked = false;
      w->shutdown = true;
      wakers.push_back(std::move(w->waker));
      w = after;
    }
    waiters_ = nullptr;
  }
  for (auto& w : wakers) std::move(w).wake();
  wait_unpinned();
}

void ScheduledIo::wait_unpinned() noexcept {
  // acquire: pairs with unpin()'s release (see there). Our generation bump
  // came first in the word's order, so pins counted here were taken before
  // it and pins taken after it fail without touching the fd.
  if (pins_of(state_.load(std::memory_order_acquire)) == 0) return;
  if (t_pinned_io == this) {
    std::fprintf(stderr,
                 "weft: an I/O object was closed from inside one of its own operations (a "
                 "read_with/write_with op closed or destroyed the Async it runs on); close it "
                 "after the operation returns\n");
    std::abort();
  }
  std::unique_lock<std::mutex> lock(mu_);
  // acquire: pairs with unpin()'s release. Setting the bit under mu_ means
  // an unpin that sees it takes mu_ to notify, so it cannot notify between
  // our check and our wait.
  uint64_t s = state_.fetch_or(kCloserWaiting, std::memory_order_acquire);
  while (pins_of(s) != 0) {
    unpinned_.wait(lock);
    // acquire: as above.
    s = state_.load(std::memory_order_acquire);
  }
  // relaxed: the bit only tells unpin() to notify; it is set and cleared
  // under mu_, and a stale notify is harmless.
  state_.fetch_and(~kCloserWaiting, std::memory_order_relaxed);
}

void ScheduledIo::notify_closer() noexcept {
  // Under mu_: the closer checks the count and waits under it (no lost
  // notification).
  std::lock_guard<std::mutex> lock(mu_);
  unpinned_.notify_all();
}

void ScheduledIo::clear_readiness(uint64_t observed, uint32_t bits) noexcept {
  uint64_t cur = observed;
  const uint64_t cleared = observed & ~uint64_t{bits};
  // acq_rel: pairs with on_event()'s release store; fails (leaving the bits)
  // if an event bumped the tick since `observed`.
  readiness_.compare_exchange_strong(cur, cleared, std::memory_order_acq_rel,
                                     std::memory_order_acquire);
}

bool ScheduledIo::add_waiter(IoWaiter* w, uint32_t generation) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  // relaxed: the generation is bumped under mu_, which we hold.
  if (shutdown_ || generation_of(state_.load(std::memory_order_relaxed)) != generation) {
    w->shutdown = true;
    return false;
  }
  // Re-check under the lock: on_event sets readiness under it too, so either
  // we see the new bits here or it sees our node.
  if (readiness_.load(std::memory_order_relaxed) & w->interest) return false;
  w->prev = nullptr;
  w->next = waiters_;
  if (waiters_) waiters_->prev = w;
  waiters_ = w;
  w->linked = true;
  return true;
}

size_t ScheduledIo::num_waiters() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (IoWaiter* w = waiters_; w; w = w->next) ++n;
  return n;
}

void ScheduledIo::remove_waiter(IoWaiter* w) noexcept {
  Waker dropped;  // dropped after the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (!w->linked) return;
  if (w->prev) w->prev->next = w->next; else waiters_ = w->next;
  if (w->next) w->next->prev = w->prev;
  w->prev = w->next = nullptr;
  w->linked = false;
  dropped = std::move(w->waker);
}

}  // namespace detail
}  // namespace weft
