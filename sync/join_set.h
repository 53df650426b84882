// JoinSet<T>: a group of spawned tasks, joined in the order they finish.
//
// What it is for: a server's connection tasks, a fan-out of requests: spawn
// any number of tasks (on an Executor, a LocalExecutor, or the global
// executor), take their results as they come with `co_await
// set.join_next()`, and have whatever is still running cancelled when the
// set goes away (tokio's JoinSet).
//
// Requires: one task (or thread) at a time uses the set: spawn, join_next,
// abort_all, shutdown and the destructor are not synchronized with each
// other (as tokio's take &mut self). The tasks themselves run anywhere.
// T is a value type or void.
//
// Guarantees:
// - join_next() completes with the result of a task that finished (in the
//   order they finished), or std::nullopt (false for void) once the set is
//   empty. A task that threw rethrows from join_next (it leaves the set); a
//   task cancelled by abort_all() throws weft::TaskCancelled.
// - join_next() is cancel-safe: if the task awaiting it is cancelled (a
//   when_any loser, a timeout), no result is lost; the next join_next()
//   returns it.
// - Destroying the set cancels every task still in it, as dropping their
//   JoinHandles does (each frame is destroyed at its next suspension point,
//   on its executor). `co_await set.shutdown()` also waits until every
//   frame is gone: nothing of the set runs after it returns.
// - abort_all() requests cancellation of every task and returns at once;
//   they stay in the set until joined (or shutdown()).
// - Spawning costs the task's frame plus one small coroutine frame that
//   reports its end to the set, whether it completed, threw or was
//   cancelled before it ever ran.
//
// Memory ordering: a task's writes happen-before join_next() returns its
// result (the JoinHandle's guarantee).
//
// Example:
//   weft::JoinSet<int> set;
//   for (int i = 0; i < 10; ++i) set.spawn(ex, fetch(i));
//   while (std::optional<int> r = co_await set.join_next()) use(*r);
#ifndef WEFT_SYNC_JOIN_SET_H_
#define WEFT_SYNC_JOIN_SET_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "executor/global.h"
#include "executor/join_handle.h"
#include "executor/task.h"
#include "executor/waker.h"

namespace weft {

namespace detail {

// What the member tasks of a JoinSet share with it: the ids of the tasks
// that finished, in order, and the waker of a join_next waiting for one.
// Kept alive by the set and by every member task (a cancelled task may be
// destroyed on its executor after the set is gone).
class JoinSetShared {
 public:
  // A member task finished (any thread).
  void finished(uint64_t id) {
    Waker w;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_.push_back(id);
      w = std::move(waiter_);
    }
    std::move(w).wake();  // after unlocking (STYLE.md habit 6)
  }
  // Owner: the oldest finished id, without removing it; or nullopt after
  // storing `w` to be woken by the next finished().
  std::optional<uint64_t> front_or_register(Waker w) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!done_.empty()) return done_.front();
    waiter_ = std::move(w);
    return std::nullopt;
  }
  std::optional<uint64_t> front() {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_.empty()) return std::nullopt;
    return done_.front();
  }
  // Owner: `id` (the front) was consumed.
  void pop(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!done_.empty() && done_.front() == id) done_.pop_front();
  }
  // Owner: a waiting join_next went away (cancelled) without being woken.
  void withdraw() {
    Waker w;
    std::lock_guard<std::mutex> lock(mu_);
    w = std::move(waiter_);
  }

 private:
  std::mutex mu_;
  std::deque<uint64_t> done_ ABSL_GUARDED_BY(mu_);
  Waker waiter_ ABSL_GUARDED_BY(mu_);
};

// Reports the end of a member task to its set exactly once: from the task's
// body when it ends (a local), or from the frame's destruction if the task
// was cancelled before its body ever ran (the parameter it was moved from).
class FinishNotice {
 public:
  FinishNotice(std::shared_ptr<JoinSetShared> shared, uint64_t id) noexcept
      : shared_(std::move(shared)), id_(id) {}
  FinishNotice(FinishNotice&& o) noexcept : shared_(std::move(o.shared_)), id_(o.id_) {}
  FinishNotice& operator=(FinishNotice&&) = delete;
  ~FinishNotice() {
    if (shared_) shared_->finished(id_);
  }

 private:
  std::shared_ptr<JoinSetShared> shared_;
  uint64_t id_;
};

// The task a JoinSet spawns: the user's task, awaited inline, then the
// notice. (By-value parameters: nothing refers to the caller's frame.)
template <class T>
Task<T> join_set_member(Task<T> task, FinishNotice notice) {
  FinishNotice local(std::move(notice));  // from here on, our body reports the end
  co_return co_await std::move(task);
}

// Waits until some member finished; gives its id (still queued).
class NextFinished {
 public:
  explicit NextFinished(JoinSetShared* shared) noexcept : shared_(shared) {}
  NextFinished(const NextFinished&) = delete;
  NextFinished& operator=(const NextFinished&) = delete;
  ~NextFinished() {
    if (registered_) shared_->withdraw();  // cancelled while waiting
  }
  bool await_ready() noexcept {
    id_ = shared_->front();
    return id_.has_value();
  }
  template <WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    id_ = shared_->front_or_register(current_waker(h));
    registered_ = !id_;
    return registered_;
  }
  uint64_t await_resume() {
    registered_ = false;  // finished() took the waker to wake us
    if (!id_) id_ = shared_->front();
    if (!id_) {
      throw std::logic_error(
          "weft: a task awaiting JoinSet::join_next was woken before a task finished: an awaiter "
          "that did not suspend left this task's Waker registered");
    }
    return *id_;
  }

 private:
  JoinSetShared* shared_;
  std::optional<uint64_t> id_;
  bool registered_ = false;
};

}  // namespace detail

template <class T>
class JoinSet {
  static_assert(!std::is_reference_v<T>, "weft::JoinSet<T&> is not supported");

 public:
  // What join_next() gives: the result, or nullopt once empty (bool for
  // void: true when a task was joined).
  using Next = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;

  JoinSet() : shared_(std::make_shared<detail::JoinSetShared>()) {}
  JoinSet(const JoinSet&) = delete;
  JoinSet& operator=(const JoinSet&) = delete;
  // Cancels every task still in the set (see above).
  ~JoinSet() = default;

  // Spawns `task` on `ex` (an Executor or LocalExecutor, anything with
  // spawn(Task<T>)) into the set.
  // The spawn location is passed on when the spawner takes one (weft's
  // executors do, for their dump()).
  template <class Spawner>
  void spawn(Spawner& ex, Task<T> task,
             std::source_location spawned_at = std::source_location::current()) {
    const uint64_t id = next_id_++;
    Task<T> member =
        detail::join_set_member<T>(std::move(task), detail::FinishNotice(shared_, id));
    JoinHandle<T> h = [&] {
      if constexpr (requires { ex.spawn(std::move(member), spawned_at); }) {
        return ex.spawn(std::move(member), spawned_at);
      } else {
        return ex.spawn(std::move(member));
      }
    }();
    handles_.emplace(id, std::move(h));
  }
  // Spawns `task` on the global executor (executor/global.h).
  void spawn(Task<T> task, std::source_location spawned_at = std::source_location::current()) {
    const uint64_t id = next_id_++;
    JoinHandle<T> h = weft::spawn(
        detail::join_set_member<T>(std::move(task), detail::FinishNotice(shared_, id)),
        spawned_at);
    handles_.emplace(id, std::move(h));
  }

  // The next task to finish (see the guarantees). Await it in the task that
  // owns the set; the set must outlive the await.
  Task<Next> join_next() {
    for (;;) {
      if (handles_.empty()) co_return Next{};
      const uint64_t id = co_await detail::NextFinished(shared_.get());
      auto it = handles_.find(id);
      if (it == handles_.end()) {  // left the set without being joined (shutdown)
        shared_->pop(id);
        continue;
      }
      // A reference, not the iterator: a spawn while we wait may rehash.
      JoinHandle<T>& h = it->second;
      // The id stays queued until the result is ours: a join_next cancelled
      // inside this await leaves it for the next one.
      if constexpr (std::is_void_v<T>) {
        try {
          co_await h;
        } catch (...) {
          forget(id);
          throw;
        }
        forget(id);
        co_return true;
      } else {
        std::optional<T> out;
        try {
          out.emplace(co_await h);
        } catch (...) {
          forget(id);
          throw;
        }
        forget(id);
        co_return out;
      }
    }
  }

  // Requests cancellation of every task in the set; returns at once.
  void abort_all() {
    for (auto& [id, h] : handles_) h.abort();
  }

  // Cancels every task and waits until all their frames are gone; the set
  // is empty afterwards. Results of tasks that had finished are dropped.
  Task<void> shutdown() {
    abort_all();
    while (!handles_.empty()) {
      auto it = handles_.begin();
      try {
        (void)co_await it->second.cancel();
      } catch (...) {
        // The task had finished by throwing: dropped like a result.
      }
      handles_.erase(it);
    }
  }

  // Lets every task run on alone; the set is empty afterwards.
  void detach_all() {
    for (auto& [id, h] : handles_) h.detach();
    handles_.clear();
  }

  // Tasks in the set: running, or finished and not yet joined.
  size_t len() const noexcept { return handles_.size(); }
  bool empty() const noexcept { return handles_.empty(); }

 private:
  void forget(uint64_t id) {
    handles_.erase(id);
    shared_->pop(id);
  }

  std::shared_ptr<detail::JoinSetShared> shared_;
  // Owner only.
  std::unordered_map<uint64_t, JoinHandle<T>> handles_;
  uint64_t next_id_ = 0;
};

}  // namespace weft

#endif  // WEFT_SYNC_JOIN_SET_H_
