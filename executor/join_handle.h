// JoinHandle<T>: the owner's side of a spawned task.
//
// What it is for: `spawn` returns one. `co_await handle` gives the task's
// result, or rethrows its exception. Destroying the handle cancels the task
// (its frame is destroyed at its next suspension point, on its executor,
// which runs the destructors of everything it held) unless `detach()` was
// called first. `co_await handle.cancel()` cancels and reports whether the
// task had already finished (then it hands back the result).
//
// Lifetime: the result lives in the task's frame until the handle takes it
// (await) or goes away; so do the task's by-value parameters (C++ destroys
// them with the frame, after the body's locals). A task that must release a
// resource it received as a parameter when it finishes should move it into
// a local.
//
// Guarantees: awaiting a task that was cancelled (by its executor's
// destruction, or by cancel()) throws weft::TaskCancelled. Awaiting a handle
// twice, or a moved-from one, throws std::logic_error naming the mistake.
// Any thread may destroy or detach a handle.
//
// Example:
//   weft::JoinHandle<int> h = ex.spawn(compute());
//   int v = co_await h;           // or: h.detach(); to let it run on alone
#ifndef WEFT_EXECUTOR_JOIN_HANDLE_H_
#define WEFT_EXECUTOR_JOIN_HANDLE_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "executor/coop.h"
#include "executor/task.h"
#include "executor/task_header.h"

namespace weft {

// Thrown by `co_await handle` when the task was cancelled before it finished.
class TaskCancelled : public std::runtime_error {
 public:
  TaskCancelled() : std::runtime_error("weft: the task was cancelled before it finished") {}
};

// What cancel() reports: the result when the task had finished, else nothing.
template <class T>
struct CancelResult {
  using type = std::optional<T>;
};
template <class T>
struct CancelResult<T&> {
  using type = T*;  // null when cancelled
};
// What cancel() of a JoinHandle<void> reports. An enum, not a bool: `if (co_await
// h.cancel())` read as "if it was cancelled" and meant the opposite.
enum class CancelOutcome : uint8_t {
  kCancelled,  // the frame was destroyed before the task finished
  kFinished,   // the task had finished first (had it thrown, cancel() rethrows that)
};
template <>
struct CancelResult<void> {
  using type = CancelOutcome;
};

template <class T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() noexcept = default;
  // Internal: adopts the handle reference of a freshly spawned task.
  explicit JoinHandle(detail::TaskHeader* task) noexcept : task_(task) {}
  JoinHandle(JoinHandle&& o) noexcept
      : task_(std::exchange(o.task_, nullptr)), consumed_(std::exchange(o.consumed_, false)) {}
  JoinHandle& operator=(JoinHandle&& o) noexcept {
    if (this != &o) {
      reset(false);
      task_ = std::exchange(o.task_, nullptr);
      consumed_ = std::exchange(o.consumed_, false);
    }
    return *this;
  }
  ~JoinHandle() { reset(false); }

  // Lets the task run to completion on its own; its result is dropped.
  void detach() noexcept { reset(true); }

  // Requests cancellation and returns at once; the handle stays: awaiting
  // it gives the result if the task finished first, else throws
  // TaskCancelled. (cancel() is the awaitable form that waits for the frame
  // to be gone.) No effect on a finished task.
  void abort() {
    check_usable();
    detail::handle_cancel(task_);
  }

  // Whether the task completed or was destroyed (a later await won't wait).
  bool is_finished() const noexcept { return task_ && detail::join_finished(task_); }
  explicit operator bool() const noexcept { return task_ != nullptr; }

 private:
  // An await's registration in the task's join slot (an AtomicWaker),
  // withdrawn if the await is destroyed while suspended (its task was
  // cancelled: a when_any or timeout loser), so that a later await of the
  // same handle, from this task or another, registers again.
  class Registration {
   protected:
    explicit Registration(JoinHandle* self) noexcept : self_(self) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() {
      if (!registered_) return;
      // Still registered: our frame is being destroyed at this await. The
      // handle outlives the await (the awaiting frame refers to it); if it
      // already went away, its reset() withdrew the waiter.
      if (std::exchange(self_->awaited_, false) && self_->task_) {
        detail::join_withdraw(self_->task_);
      }
    }

    template <class P>
    bool suspend(std::coroutine_handle<P> h) noexcept {
      if (self_->awaited_) {
        // Another task's await is registered: replacing its Waker would
        // leave it suspended for ever.
        std::fprintf(stderr, "weft: a JoinHandle was awaited by two tasks at once\n");
        std::abort();
      }
      // Written before the registration is published: the task is RUNNING
      // until await_suspend returns, so a notifier's wake cannot resume it
      // (and run await_resume, which clears these) before we are done.
      registered_ = true;
      self_->awaited_ = true;
      if (detail::join_register(self_->task_, current_waker(h))) return true;
      resumed();                     // finished: join_register dropped the waker
      return detail::coop_yield(h);  // finished: once, it stays so
    }
    // The notifier took the waiter when it woke us. (Only its wake can
    // resume us: a Waker kept from an earlier suspension is inert, waker.h.)
    void resumed() noexcept {
      registered_ = false;
      self_->awaited_ = false;
    }

    JoinHandle* self_;

   private:
    bool registered_ = false;
  };

 public:
  class JoinAwaiter : private Registration {
   public:
    explicit JoinAwaiter(JoinHandle* self) noexcept : Registration(self) {}
    // A finished task's result counts against the cooperative budget
    // (coop.h); with none left the await yields before taking it.
    bool await_ready() const {
      self_->check_usable();
      return detail::coop_ready([this] { return detail::join_finished(self_->task_); });
    }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      return this->suspend(h);
    }
    T await_resume() {
      this->resumed();
      self_->check_not_spurious();
      return self_->take();
    }

   private:
    using Registration::self_;
  };
  JoinAwaiter operator co_await() & noexcept { return JoinAwaiter(this); }
  JoinAwaiter operator co_await() && noexcept { return JoinAwaiter(this); }

  class CancelAwaiter : private Registration {
   public:
    explicit CancelAwaiter(JoinHandle* self) : Registration(self) {
      self_->check_usable();
      detail::handle_cancel(self_->task_);
    }
    bool await_ready() const noexcept {
      return detail::coop_ready([this] { return detail::join_finished(self_->task_); });
    }
    template <detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      return this->suspend(h);
    }
    typename CancelResult<T>::type await_resume() {
      this->resumed();
      self_->check_not_spurious();
      if (!self_->task_->has_output) {
        self_->reset(false);
        self_->consumed_ = true;
        return {};  // nullopt, null, or CancelOutcome::kCancelled
      }
      if constexpr (std::is_void_v<T>) {
        self_->take();
        return CancelOutcome::kFinished;
      } else if constexpr (std::is_reference_v<T>) {
        return std::addressof(self_->take());
      } else {
        return std::optional<T>(self_->take());
      }
    }

   private:
    using Registration::self_;
  };
  // Cancels the task; the awaitable completes once the frame is gone (or the
  // task had finished) and reports which.
  CancelAwaiter cancel() { return CancelAwaiter(this); }

 private:
  // Resumed before the task finished. A Waker kept from an earlier
  // suspension cannot do this (it is inert once the task ran again); only
  // an awaiter of this same run that took the task's Waker, did not
  // suspend, and left it registered somewhere can. Fail loudly rather than
  // read a result that is not there.
  void check_not_spurious() {
    if (!detail::join_finished(task_)) {
      detail::handle_release(std::exchange(task_, nullptr), /*detach=*/true);
      throw std::logic_error(
          "weft: a task awaiting a JoinHandle was woken before the task finished: an awaiter "
          "that did not suspend left this task's Waker registered");
    }
  }
  void check_usable() const {
    if (consumed_) throw std::logic_error("weft: a JoinHandle was awaited twice");
    if (!task_) throw std::logic_error("weft: co_await on a moved-from or detached JoinHandle");
  }
  T take() {
    consumed_ = true;
    if (!task_->has_output) {
      reset(false);
      throw TaskCancelled();
    }
    struct Release {
      JoinHandle* self;
      ~Release() { self->reset(false); }  // drops the frame after the move
    } release{this};
    return detail::promise_of<T>(task_).take();
  }
  void reset(bool detach) noexcept {
    if (!task_) return;
    // Gone while an await of it is still registered (its awaiter outlives
    // the handle: a misuse, but leave no Waker behind).
    if (std::exchange(awaited_, false)) detail::join_withdraw(task_);
    detail::handle_release(std::exchange(task_, nullptr), detach);
  }

  detail::TaskHeader* task_ = nullptr;
  bool consumed_ = false;
  bool awaited_ = false;  // an await is registered (owner's thread only)
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_JOIN_HANDLE_H_
