// IoOp: one non-blocking operation on a registered fd, awaited without a
// coroutine frame: the awaiter Async<T>'s read, write, readv, writev,
// read_with, write_with and the socket types' send / recv / accept /
// connect return.
//
// What it is for: an operation used to be two nested coroutines (the
// syscall's mapping and the retry loop), two heap frames per read or
// write. IoOp is a hand-written awaiter that lives in the awaiting frame:
//   1. await_ready: if the registration says ready, try the call (under a
//      pin); done unless it would block.
//   2. await_suspend: try again, else queue a waiter on the registration
//      and arm the task's deferred op (coop.h, DeferredOp::arm), so that
//      the wake makes the task's next run retry the call *before* the
//      coroutine resumes: a retry that would block again just re-queues,
//      with the coroutine still suspended. await_resume only hands over
//      the result.
//
// Guarantees (those of the retry loop it replaces, async.h):
//   - The call runs only under an IoPin for the registration's generation:
//     once close() has begun no call starts, and close() waits for the one
//     running. A closed (or moved-from) Async gives Cancelled without a
//     syscall.
//   - Cooperative budget (executor/coop.h): each completed operation
//     consumes one unit; with none left the await yields before trying
//     (DeferredOp::suspend), at most once per await.
//   - No lost wake-up: "would block" clears the readiness only if no event
//     arrived since it was read (ScheduledIo's tick); add_waiter re-checks
//     the readiness under the lock the driver sets it under.
//   - Cancellation: destroying a suspended IoOp (its task was cancelled)
//     unlinks its waiter; the armed deferred op lives in the same frame and
//     is never run once the frame is gone.
//   - Lazy but self-contained: the op holds copies of what it needs (the
//     registration, the fd number, the arguments), taken when the call
//     that returned it was made. Await it once. `Task<Out>` (or block_on)
//     accepts it too, through a conversion that wraps it in a coroutine.
//
// Example (what Async<T>::read returns):
//   absl::StatusOr<size_t> n = co_await sock.read(buf, sizeof buf);
#ifndef WEFT_ASYNC_FD_IO_OP_H_
#define WEFT_ASYNC_FD_IO_OP_H_

#include <sys/types.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "async_fd/io_status.h"
#include "executor/block_on.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "reactor/scheduled_io.h"

namespace weft {
namespace detail {

// What one attempt of an operation found.
enum class IoAttempt {
  kWouldBlock,   // nothing done: wait for readiness and try again
  kDone,         // the result is set
  // The result is set, and the call read less than it asked for from a
  // stream: the receive buffer is drained, so the next read may wait for
  // readiness without first probing for EAGAIN (tokio does the same).
  kDoneDrained,
};

// `Attempt` is a callable `IoAttempt attempt(Out& out)` (Out =
// Attempt::Out, constructible from an absl::Status) that makes the call
// once.
template <class Attempt>
class [[nodiscard]] IoOp {
 public:
  using Out = typename Attempt::Out;

  IoOp(ScheduledIo* io, uint32_t generation, uint32_t interest, uint32_t clear_bits,
       Attempt attempt) noexcept
      : io_(io), generation_(generation), clear_bits_(clear_bits), attempt_(std::move(attempt)) {
    node_.interest = interest;
  }
  // Movable until awaited (the Task conversion moves it into a frame).
  IoOp(IoOp&& o) noexcept
      : io_(o.io_),
        generation_(o.generation_),
        clear_bits_(o.clear_bits_),
        attempt_(std::move(o.attempt_)) {
    node_.interest = o.node_.interest;
  }
  IoOp& operator=(IoOp&&) = delete;
  ~IoOp() {
    if (registered_) io_->remove_waiter(&node_);
  }

  bool await_ready() {
    if (io_ == nullptr) {  // a moved-from Async: as good as closed
      result_ = closed_status();
      return true;
    }
    if (!coop_has_budget()) return false;  // await_suspend yields first
    if (!attempt_now()) return false;
    coop_consume();
    return true;
  }
  template <WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return coop_.template suspend<&IoOp::template try_suspend<P>>(this, h);
  }
  Out await_resume() {
    coop_.rethrow_if_failed();
    return std::move(result_);
  }

  // A Task that awaits this operation (one frame), for code that wants a
  // Task: block_on, spawn, a Task-typed variable.
  operator Task<Out>() && { return as_task(std::move(*this)); }  // NOLINT: implicit on purpose
  Task<Out> task() && { return as_task(std::move(*this)); }

 private:
  static Task<Out> as_task(IoOp op) { co_return co_await op; }

  // Tries while the registration says ready. True once done (result_ set,
  // Cancelled if the registration was closed); false when it is not ready.
  bool attempt_now() {
    for (;;) {
      const uint64_t observed = io_->readiness();
      if (!(observed & node_.interest)) return false;
      IoAttempt got;
      {
        IoPin pin(io_, generation_);
        if (!pin) {
          result_ = closed_status();
          return true;
        }
        got = attempt_(result_);
      }
      if (got == IoAttempt::kDone) return true;
      if (got == IoAttempt::kDoneDrained) {
        // Only if no event arrived since `observed`: one that did may
        // announce data that came after our read, and keeps the bit.
        io_->clear_readiness(observed, ready::kReadable);
        return true;
      }
      io_->clear_readiness(observed, clear_bits_);
    }
  }

  // await_suspend's work (also run deferred, after a budget yield): done
  // (false), or a waiter queued and the retry armed (true: stay suspended).
  template <WeftPromise P>
  bool try_suspend(std::coroutine_handle<P> h) {
    for (;;) {
      if (attempt_now()) return false;
      node_.waker = current_waker(h);
      if (io_->add_waiter(&node_, generation_)) {
        registered_ = true;
        coop_.template arm<&IoOp::template on_wake<P>>(this, h);
        return true;
      }
      node_.waker = Waker();
      if (node_.shutdown) {
        result_ = closed_status();
        return false;
      }
      // Readiness arrived between the attempt and the lock: try again.
    }
  }

  // The task's next run after the waiter was queued (run_task, through the
  // armed DeferredOp): retry before the coroutine resumes.
  template <WeftPromise P>
  bool on_wake(std::coroutine_handle<P> h) {
    if (registered_) {
      io_->remove_waiter(&node_);  // no-op unless woken by something else
      registered_ = false;
      // Written under the registration's lock, which remove_waiter took.
      if (node_.shutdown) {
        result_ = closed_status();
        return false;
      }
    }
    if (!yielded_ && !coop_has_budget()) {
      // As the loop this replaces: a retry checks the budget, and yields
      // for it at most once per await.
      yielded_ = true;
      coop_.template arm<&IoOp::template on_wake<P>>(this, h);
      coop_requeue(h.promise().task());
      return true;
    }
    return try_suspend(h);
  }

  ScheduledIo* const io_;
  const uint32_t generation_;
  const uint32_t clear_bits_;  // cleared on would-block
  Attempt attempt_;
  IoWaiter node_;
  bool registered_ = false;  // node_ was linked (it may since have been unlinked by a wake)
  bool yielded_ = false;
  Out result_;
  DeferredOp coop_;
};

// One non-blocking syscall, as a plain function and its arguments (so the
// socket types' out-of-line calls share one IoOp type): -1 with errno on
// failure. Its result is a byte count (or, for accept, the new fd).
struct SysCall {
  using Out = absl::StatusOr<size_t>;

  ssize_t (*call)(const SysCall&) = nullptr;
  int fd = -1;
  int flags = 0;
  void* buf = nullptr;  // or the iovec array, or accept's peer address
  size_t len = 0;       // or the iovec count
  const char* what = "";
  // A stream read: a short read means the receive buffer was drained.
  bool drains = false;

  IoAttempt operator()(Out& out) const {
    const ssize_t n = call(*this);
    if (n >= 0) {
      out = static_cast<size_t>(n);
      return drains && n > 0 && static_cast<size_t>(n) < len ? IoAttempt::kDoneDrained
                                                              : IoAttempt::kDone;
    }
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return IoAttempt::kWouldBlock;
    out = errno_status(err, what);
    return IoAttempt::kDone;
  }
};

using SysIo = IoOp<SysCall>;

}  // namespace detail

// block_on(sock.read(...)): runs the operation as a Task (see IoOp).
template <class A>
auto block_on(detail::IoOp<A>&& op, BlockOnOptions options = {}) {
  return block_on(std::move(op).task(), options);
}

}  // namespace weft

#endif  // WEFT_ASYNC_FD_IO_OP_H_
