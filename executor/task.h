// Task<T>: weft's lazy coroutine type.
//
// What it is for: write asynchronous code as `Task<T> f() { ... co_return x; }`
// and compose it with `co_await f()`. A Task does nothing until it is awaited
// or handed to an executor (`spawn`, `run`, `block_on`).
//
// Guarantees:
// - Awaiting a Task starts it; control passes between parent and child
//   through the runner's trampoline (TaskHeader::transfer), so a chain of a
//   million nested awaits uses constant stack in every build mode.
// - Destroying a suspended chain (its task cancelled, its executor gone)
//   uses constant stack too, and keeps the order plain recursion would give:
//   the deepest suspended frame first, then each parent, so a child's
//   destructors may still use what its parents own (see
//   destroy_owned_frame below).
// - The result, or the exception the body threw, is delivered to the awaiter.
//   `Task<T&>` delivers a reference; `Task<void>` nothing.
// - Every weft coroutine knows the task (TaskHeader) it runs in, so a leaf
//   awaiter can take its Waker with `current_waker(h)`. Awaiting weft leaf
//   awaiters from a coroutine type that is not weft's fails to compile.
// - Misuse fails loudly: awaiting a moved-from Task, or a Task that already
//   ran, throws std::logic_error naming the mistake in the awaiting coroutine.
//
// The frame is allocated with a TaskHeader in front of it (one allocation),
// so a Task can become a spawned task without another allocation.
//
// Example:
//   weft::Task<int> answer() { co_return 42; }
//   weft::Task<int> twice() { co_return 2 * co_await answer(); }
//   int x = weft::block_on(twice());  // 84
#ifndef WEFT_EXECUTOR_TASK_H_
#define WEFT_EXECUTOR_TASK_H_

#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <new>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "executor/task_header.h"
#include "executor/waker.h"

namespace weft {

template <class T = void>
class Task;

namespace detail {

// The part of every weft promise that is independent of the result type.
class PromiseBase {
 public:
  // One allocation for header and frame: [TaskHeader | frame].
  static void* operator new(std::size_t size) {
    void* block = ::operator new(kHeaderPrefix + size);
    // Safety: placement new into the prefix reserved for the header.
    auto* h = new (block) TaskHeader();
    return frame_of(h);
  }
  static void operator delete(void* frame, std::size_t) noexcept {
    TaskHeader* h = header_of_frame(frame);
    // Destroyed by the destroy walk ahead of the Task that owns it: the
    // memory stays until that Task lets go (destroy_owned_frame).
    if (h->frame_destroyed) return;
    release_memory(h);
  }
  // Frees the allocation of a frame that is gone, or drops its reference.
  static void release_memory(TaskHeader* h) noexcept {
    // Fast path: nobody but the frame refers to the header (a task that was
    // only awaited, or a spawned task whose handle and wakers are gone), so
    // no other thread can touch it: free without an atomic RMW.
    // acquire: pairs with the release in ref_dec of the other holders.
    if (h->refs.load(std::memory_order_acquire) == 1) {
      h->~TaskHeader();
      ::operator delete(static_cast<void*>(h));
      return;
    }
    ref_dec(h);
  }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> self) noexcept {
      PromiseBase& p = self.promise();
      TaskHeader* own = header_of_frame(self.address());
      if (own != p.task_) {
        // A child: return to its parent (kept in the child's own header,
        // see start_as_child) through the runner's trampoline.
        p.task_->resume_point = own->resume_point;
        p.task_->transfer = true;
        return;
      }
      // A root: tell the runner the task finished during this run.
      p.task_->finished_in_run = true;
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  // The task this coroutine runs in (its root's header).
  TaskHeader* task() const noexcept { return task_; }

  // Internal: makes this coroutine the root of a task, with `self` its frame.
  void make_root(TaskHeader* self, std::coroutine_handle<> frame) noexcept {
    task_ = self;
    self->resume_point = frame;
  }
  // Internal: this coroutine, whose frame is `self`, starts as the child
  // that `parent_frame` awaits, in the task `task` (the parent's).
  //
  // The parent link lives in the child's own TaskHeader, in resume_point:
  // a frame that is awaited is never a task's root, so the task-level
  // fields of its header are free, and every frame has one (the prefix of
  // its allocation). One store per await, and nothing in the promise: the
  // frame stays as small as before the destroy walk existed. The link is
  // read by final_suspend (the way back) and by the destroy walk (upwards
  // from the task's resume_point), both on the thread that owns the task.
  void start_as_child(TaskHeader* task, std::coroutine_handle<> parent_frame,
                      std::coroutine_handle<> self) noexcept {
    task_ = task;
    header_of_frame(self.address())->resume_point = parent_frame;
  }

 private:
  friend void destroy_owned_frame(std::coroutine_handle<> frame, PromiseBase* owned) noexcept;

  // The task this coroutine runs in: its own header for a root, the root's
  // for a child; null until it starts.
  TaskHeader* task_ = nullptr;
};

// Destroys `frame`, whose promise is `owned`, for the Task that owns it.
//
// A frame suspended in `co_await child` owns the child through a Task in
// its frame (usually), so plain destruction recurses once per level: a
// million-deep chain overflows the stack. Instead the frames below `owned`
// are destroyed here in a loop, deepest first (the order the recursion
// would have destroyed them in), each while its parent is still intact.
// Each of them is marked frame_destroyed first: its memory stays, so the
// Task that owns it (in its parent's frame, destroyed next, or elsewhere)
// finds the mark, frees the memory and recurses no further.
//
// One difference from plain recursion, for chains whose Tasks are owned
// elsewhere than in the parent's frame (a Task passed down by reference):
// the chain below is still destroyed leaf first, before the frame that
// owns the Task, which would otherwise have destroyed it later.
inline void destroy_owned_frame(std::coroutine_handle<> frame, PromiseBase* owned) noexcept {
  TaskHeader* h = header_of_frame(frame.address());
  if (h->frame_destroyed) {  // already destroyed by a walk: only memory left
    PromiseBase::release_memory(h);
    return;
  }
  // Only a child that started and has not finished can have a suspended
  // chain below it. Its task's resume_point is then the deepest suspended
  // frame of the task's chain (set when a child starts and when it returns,
  // never left on a frame that finished), and every child frame's header
  // links to its parent (start_as_child): walk up from the deepest frame to
  // see whether `frame` is on the chain, then destroy what lies below it,
  // deepest first.
  TaskHeader* task = owned->task_;
  if (task != nullptr && task != h && !frame.done()) {
    void* const top = frame.address();
    void* const deepest = task->resume_point.address();
    void* x = deepest;
    while (x != top && header_of_frame(x) != task) x = header_of_frame(x)->resume_point.address();
    if (x == top) {
      for (void* f = deepest; f != top;) {
        TaskHeader* fh = header_of_frame(f);
        void* parent = fh->resume_point.address();
        fh->frame_destroyed = true;
        // Safety: the chain is suspended (its owner is being destroyed,
        // which happens only at a suspension point); `f` has no suspended
        // child left (destroyed by the previous step), and its owning Task
        // will only free the memory (frame_destroyed).
        std::coroutine_handle<>::from_address(f).destroy();
        f = parent;
      }
      // `frame` goes next: the deepest frame left is its parent. A later
      // walk in this task starts there, never on a destroyed frame.
      task->resume_point = h->resume_point;
    }
  }
  // Safety: the caller (a Task) owns `frame`; every frame below it is gone.
  frame.destroy();
}

template <class P>
concept WeftPromise = std::derived_from<P, PromiseBase>;

// Result storage for Task<T>.
template <class T>
class Promise : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
    requires std::convertible_to<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    result_.template emplace<1>(std::forward<U>(v));
  }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }

  bool has_value() const noexcept { return result_.index() == 1; }
  T take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <class T>
class Promise<T&> : public PromiseBase {
 public:
  Task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { result_.template emplace<1>(std::addressof(v)); }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }
  bool has_value() const noexcept { return result_.index() == 1; }
  T& take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return *std::get<1>(result_);
  }

 private:
  std::variant<std::monostate, T*, std::exception_ptr> result_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept { returned_ = true; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  bool has_value() const noexcept { return returned_; }
  void take() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
  bool returned_ = false;
};

}  // namespace detail

// Returns a Waker for the task that `h` runs in. Use inside await_suspend.
template <detail::WeftPromise P>
Waker current_waker(std::coroutine_handle<P> h) noexcept {
  detail::TaskHeader* t = h.promise().task();
  detail::ref_inc(t);
  return Waker(t, detail::running_generation(t));
}

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

  class Awaiter {
   public:
    explicit Awaiter(Handle h) noexcept : child_(h) {}
    bool await_ready() const {
      if (!child_) throw std::logic_error("weft: co_await on a moved-from or empty weft::Task");
      // A frame a destroy walk took (its chain was cancelled) was awaited too.
      if (detail::header_of_frame(child_.address())->frame_destroyed || child_.done() ||
          child_.promise().task() != nullptr) {
        throw std::logic_error("weft: co_await on a weft::Task that was already awaited");
      }
      return false;
    }
    template <detail::WeftPromise P>
    void await_suspend(std::coroutine_handle<P> parent) noexcept {
      detail::TaskHeader* task = parent.promise().task();
      child_.promise().start_as_child(task, parent, child_);
      // Start the child through the runner's trampoline (see
      // TaskHeader::transfer): no stack growth however deep the chain.
      task->resume_point = child_;
      task->transfer = true;
    }
    T await_resume() { return child_.promise().take(); }

   private:
    Handle child_;
  };
  Awaiter operator co_await() const& noexcept { return Awaiter(handle_); }
  Awaiter operator co_await() const&& noexcept { return Awaiter(handle_); }

  // Internal: hands the frame to an executor or runner.
  Handle release() noexcept { return std::exchange(handle_, {}); }

 private:
  void reset() noexcept {
    if (handle_) {
      // A Task owns its frame until released; the frame is suspended (never
      // started, finished at final_suspend, or its task was cancelled at a
      // suspension point), or was already destroyed by a destroy walk.
      Handle h = std::exchange(handle_, {});
      // Safety: promise() only computes an address here; the walk reads it
      // only when the frame is not marked destroyed.
      detail::destroy_owned_frame(h, &h.promise());
    }
  }
  Handle handle_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
template <class T>
Task<T&> Promise<T&>::get_return_object() noexcept {
  return Task<T&>(std::coroutine_handle<Promise<T&>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// Turns a Task into the root of a spawned or run task with `scheduler`.
// `initial_state` is the state word to start from; the root starts with two
// references (the frame's and its handle's). `spawned_at` is what
// Executor::dump() reports as the task's origin.
template <class T>
TaskHeader* make_root(Task<T>&& task, Scheduler* scheduler,
                      uint64_t initial_state = state::kNewRoot,
                      std::source_location spawned_at = {}) {
  auto h = task.release();
  if (!h) throw std::logic_error("weft: spawning a moved-from or empty weft::Task");
  if (h.promise().task() != nullptr || h.done()) {
    h.destroy();
    throw std::logic_error("weft: spawning a weft::Task that was already awaited");
  }
  TaskHeader* header = header_of_frame(h.address());
  header->scheduler = scheduler;
  header->spawned_at = spawned_at;
  h.promise().make_root(header, h);
  // relaxed: the header is not yet shared; the push that publishes it to
  // another thread is a release.
  header->state.store(initial_state, std::memory_order_relaxed);
  header->refs.store(2, std::memory_order_relaxed);  // relaxed: as above
  return header;
}

template <class T>
Promise<T>& promise_of(TaskHeader* h) noexcept {
  return std::coroutine_handle<Promise<T>>::from_address(frame_of(h)).promise();
}
}  // namespace detail

}  // namespace weft

#endif  // WEFT_EXECUTOR_TASK_H_
