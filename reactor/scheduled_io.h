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
//
// Pins: an operation about to make a syscall on the fd pins the record for
// its generation (IoPin); shut_down() returns only when no pin is held. The
// owner closes the fd after shut_down(), so a syscall never runs on an fd
// number that was closed (and perhaps reused by another thread's open)
// under it. The generation and the pin count share one word, so a pin is
// one uncontended RMW that both counts the operation and checks that the
// registration is still open; close protocol, step by step:
//   1. shut_down() bumps the generation (under mu_) and wakes every waiter;
//      from here on every pin fails, and a woken waiter reports "closed"
//      without trying its syscall.
//   2. It waits, under mu_ on `unpinned_`, until the pins taken before
//      step 1 are released (each is one non-blocking syscall).
//   3. The reactor removes the fd from epoll; the owner closes it.
#ifndef WEFT_REACTOR_SCHEDULED_IO_H_
#define WEFT_REACTOR_SCHEDULED_IO_H_

#include <atomic>
#include <condition_variable>
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
  // Returns the waiters it woke (metrics).
  int on_event(uint32_t generation, uint32_t epoll_events) noexcept;

  // Closes this use: bumps the generation (so in-flight events are
  // ignored and new pins fail), wakes every waiter with `shutdown`, then
  // waits until no operation holds a pin. Calling it from inside a pinned
  // operation on the same record would wait for ever: it aborts with a
  // message instead.
  void shut_down() noexcept;

  uint32_t generation() const noexcept {
    // acquire: pairs with the release RMW in shut_down(); a waiter that sees
    // the new generation sees the shutdown.
    return generation_of(state_.load(std::memory_order_acquire));
  }

  // Pins this use for one syscall: true if `generation` is still current
  // (the registration is open), and then shut_down() waits for unpin().
  // False when closed; nothing to undo then.
  bool pin(uint32_t generation) noexcept {
    // acquire: pairs with shut_down()'s release RMW of the generation, like
    // generation(). The RMW itself is what makes the pin safe: the closer's
    // bump and this increment are ordered in the word's modification order,
    // so either we see the new generation (and fail) or the closer sees our
    // count (and waits).
    const uint64_t prev = state_.fetch_add(1, std::memory_order_acquire);
    if (generation_of(prev) == generation) return true;
    unpin();  // a stale pin: count back down (it may be a closer's last one)
    return false;
  }
  void unpin() noexcept {
    // release: pairs with the closer's acquire in wait_unpinned(): the
    // operation's use of the fd (and of the object that owns it) happens
    // before the owner closes it.
    const uint64_t prev = state_.fetch_sub(1, std::memory_order_release);
    if ((prev & kCloserWaiting) && pins_of(prev) == 1) notify_closer();
  }
  // Pins held right now (tests).
  uint32_t pins() const noexcept {
    // relaxed: a snapshot for tests; orders nothing.
    return pins_of(state_.load(std::memory_order_relaxed));
  }
  // Whether a shut_down() is waiting for pins to be released (tests).
  bool closer_waiting() const noexcept {
    // relaxed: a snapshot for tests; orders nothing.
    return (state_.load(std::memory_order_relaxed) & kCloserWaiting) != 0;
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
  // The state word: generation << 32 | kCloserWaiting | pin count.
  static constexpr uint64_t kGenerationOne = uint64_t{1} << 32;
  static constexpr uint64_t kCloserWaiting = uint64_t{1} << 31;
  static constexpr uint64_t kPinMask = kCloserWaiting - 1;
  static uint32_t generation_of(uint64_t s) noexcept { return static_cast<uint32_t>(s >> 32); }
  static uint32_t pins_of(uint64_t s) noexcept { return static_cast<uint32_t>(s & kPinMask); }

  // Step 2 of the close protocol (see the file comment).
  void wait_unpinned() noexcept;
  void notify_closer() noexcept;

  std::mutex mu_;
  IoWaiter* waiters_ = nullptr;  // guarded by mu_
  bool shutdown_ = false;        // guarded by mu_
  // A closer waits here (under mu_) for the last pin; notified under mu_.
  std::condition_variable unpinned_;
  // Generation, kCloserWaiting and the pin count (layout above). The
  // generation is bumped by shut_down() under mu_ and read lock-free by
  // awaiters and pins, under mu_ by the driver; the count is raised and
  // lowered by pins on any thread; kCloserWaiting is set and cleared by
  // shut_down() under mu_.
  std::atomic<uint64_t> state_{0};
  std::atomic<uint64_t> readiness_{0};
  int fd_ = -1;  // written by reset_for before the record is published
};

// The record the calling thread has pinned, if any: a close of that very
// record from inside its own operation is reported instead of deadlocking.
inline constinit thread_local const ScheduledIo* t_pinned_io = nullptr;

// An RAII pin (see ScheduledIo::pin): held across exactly one syscall (or
// one call of a read_with / write_with op), never across a suspension.
class IoPin {
 public:
  IoPin(ScheduledIo* io, uint32_t generation) noexcept
      : io_(io != nullptr && io->pin(generation) ? io : nullptr) {
    if (io_) {
      outer_ = t_pinned_io;
      t_pinned_io = io_;
    }
  }
  IoPin(const IoPin&) = delete;
  IoPin& operator=(const IoPin&) = delete;
  ~IoPin() {
    if (io_) {
      t_pinned_io = outer_;
      io_->unpin();
    }
  }
  // False: the registration is closed; do not touch the fd.
  explicit operator bool() const noexcept { return io_ != nullptr; }

 private:
  ScheduledIo* const io_;
  const ScheduledIo* outer_ = nullptr;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_SCHEDULED_IO_H_
