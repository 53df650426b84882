// ScheduledIo: the reactor's record of one registered file descriptor: its
// readiness as last reported by epoll, and the tasks waiting for it.
//
// What it is for: an fd is registered once, edge-triggered. epoll reports a
// change of state; the registration keeps the readiness until an operation
// fails with EAGAIN, so waiting again costs no epoll_ctl.
//
// Lifetime: records live in a slab that is never freed (registration_slab.h)
// and are reused. Each use has a generation; the epoll event carries
// (index, generation), so an event that was already in flight when its fd
// was deregistered (and the number perhaps reused at once) finds a
// different generation and is ignored.
//
// The readiness word: direction bits in the low byte, and a tick in the bits
// above that counts readiness events. An operation reads the word (and its
// tick) before trying; if it gets EAGAIN it clears the bit only if the tick
// is unchanged, so an event that arrived in between is not lost.
//
// Waiters: IoWaiter nodes live in the awaiters (no allocation), linked under
// `mu`. The driver collects the wakers of satisfied waiters under the lock
// and wakes them after releasing it.
#ifndef WEFT_REACTOR_SCHEDULED_IO_H_
#define WEFT_REACTOR_SCHEDULED_IO_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "executor/waker.h"

namespace weft {
namespace detail {

namespace ready {
inline constexpr uint32_t kReadable = 1u << 0;
inline constexpr uint32_t kWritable = 1u << 1;
inline constexpr uint32_t kReadClosed = 1u << 2;   // peer shut down its side (EPOLLRDHUP)
inline constexpr uint32_t kWriteClosed = 1u << 3;  // EPOLLHUP: no more writes either
inline constexpr uint32_t kError = 1u << 4;        // EPOLLERR
inline constexpr uint32_t kMask = 0xFF;
inline constexpr int kTickShift = 8;
// What wakes a reader: data, or anything that makes a read return at once.
inline constexpr uint32_t kReadInterest = kReadable | kReadClosed | kWriteClosed | kError;
inline constexpr uint32_t kWriteInterest = kWritable | kWriteClosed | kError;
}  // namespace ready

// One waiting task. Lives in an awaiter; linked in ScheduledIo::waiters.
struct IoWaiter {
  IoWaiter* prev = nullptr;  // guarded by the ScheduledIo's mu
  IoWaiter* next = nullptr;
  Waker waker;
  uint32_t interest = 0;  // ready::kReadInterest or ready::kWriteInterest
  bool linked = false;    // guarded by mu
  bool shutdown = false;  // guarded by mu: the registration was closed
};

class ScheduledIo {
 public:
  // Starts a new use with `fd`. Optimistically ready both ways: the first
  // operation tries the syscall and waits only if it gets EAGAIN.
  void reset_for(int fd) noexcept;

  // The driver: applies epoll `events` if `generation` is still current.
  void on_event(uint32_t generation, uint32_t epoll_events) noexcept;

  // Closes this use: wakes every waiter with `shutdown`, bumps the
  // generation so in-flight events are ignored.
  void shut_down() noexcept;

  uint32_t generation() const noexcept {
    // acquire: pairs with the release in shut_down(); a waiter that sees the
    // new generation sees the shutdown.
    return generation_.load(std::memory_order_acquire);
  }
  uint64_t readiness() const noexcept {
    // acquire: pairs with the release RMW in on_event(), so data the kernel
    // made available before the event is seen by the retried syscall.
    return readiness_.load(std::memory_order_acquire);
  }
  // Clears `bits` if no readiness event arrived since `observed` was read.
  void clear_readiness(uint64_t observed, uint32_t bits) noexcept;

  // Links `w` unless the registration is ready for its interest (returns
  // false: don't suspend) or was shut down for `generation` (also false,
  // with w->shutdown set).
  bool add_waiter(IoWaiter* w, uint32_t generation) noexcept;
  // Unlinks `w` if still linked (a cancelled or re-polled wait).
  void remove_waiter(IoWaiter* w) noexcept;

  int fd() const noexcept { return fd_; }
  // Tasks waiting right now (diagnostics and tests).
  size_t num_waiters() noexcept;

 private:
  std::mutex mu_;
  IoWaiter* waiters_ = nullptr;  // guarded by mu_
  bool shutdown_ = false;        // guarded by mu_
  // Bumped by shut_down() under mu_; read lock-free by awaiters and under
  // mu_ by the driver.
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint64_t> readiness_{0};
  int fd_ = -1;  // written by reset_for before the record is published
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_SCHEDULED_IO_H_
