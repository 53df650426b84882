// ReadinessAwaiter: waits until a registered fd is ready for reading or
// writing, or until its registration is closed.
//
// Guarantees: a readiness event racing with the suspend is never lost
// (ScheduledIo::add_waiter re-checks under the lock the driver sets
// readiness under). Destroying the awaiter while its task is suspended (the
// task was cancelled) unlinks it: the registration keeps no trace of it.
//
// Cooperative budget (executor/coop.h): a budgeted awaiter (readable() /
// writable()) that finds the fd ready, or closed, at once consumes a unit;
// with none left it yields first and looks when the task next runs.
// Budget::kExempt waits are for callers that count their operation
// themselves. (Async's operations do not use this awaiter: IoOp, io_op.h,
// waits on the registration itself.)
#ifndef WEFT_ASYNC_FD_READINESS_H_
#define WEFT_ASYNC_FD_READINESS_H_

#include <coroutine>

#include "absl/status/status.h"
#include "async_fd/io_status.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "reactor/scheduled_io.h"

namespace weft {
namespace detail {

class ReadinessAwaiter {
 public:
  enum class Budget : bool { kExempt, kConsume };

  ReadinessAwaiter(ScheduledIo* io, uint32_t generation, uint32_t interest,
                   Budget budget = Budget::kConsume) noexcept
      : io_(io), generation_(generation), budgeted_(budget == Budget::kConsume) {
    node_.interest = interest;
  }
  ReadinessAwaiter(const ReadinessAwaiter&) = delete;
  ReadinessAwaiter& operator=(const ReadinessAwaiter&) = delete;
  ~ReadinessAwaiter() {
    if (registered_) io_->remove_waiter(&node_);
  }

  bool await_ready() noexcept {
    if (!budgeted_) return ready_now();
    return coop_ready([this] { return ready_now(); });
  }
  template <WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    if (!budgeted_) return try_suspend(h);
    return coop_.suspend<&ReadinessAwaiter::try_suspend<P>>(this, h);
  }
  // OK when ready; Cancelled when the registration was closed.
  absl::Status await_resume() noexcept {
    if (registered_) {
      io_->remove_waiter(&node_);  // no-op unless woken by something else
      registered_ = false;
      // node_.shutdown is written under the registration's lock, which
      // remove_waiter just took.
      if (node_.shutdown) closed_ = true;
    }
    return closed_ ? closed_status() : absl::OkStatus();
  }

 private:
  // Ready (or closed) now: the await completes without suspending.
  bool ready_now() noexcept {
    // A moved-from Async has no record: as good as closed.
    if (io_ == nullptr || io_->generation() != generation_) {
      closed_ = true;
      return true;
    }
    return (io_->readiness() & node_.interest) != 0;
  }
  // await_suspend's work (also run deferred, after a budget yield): links
  // the node (true), or finds the fd ready or closed (false: don't suspend).
  template <WeftPromise P>
  bool try_suspend(std::coroutine_handle<P> h) noexcept {
    if (io_ == nullptr) {
      closed_ = true;
      return false;
    }
    node_.waker = current_waker(h);
    registered_ = true;
    if (io_->add_waiter(&node_, generation_)) return true;
    node_.waker = Waker();  // ready (or closed) after all: don't suspend
    return false;
  }

  ScheduledIo* io_;
  uint32_t generation_;
  IoWaiter node_;
  bool registered_ = false;
  bool closed_ = false;
  const bool budgeted_;
  DeferredOp coop_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_ASYNC_FD_READINESS_H_
