#include "executor/join_group.h"

#include <algorithm>
#include <thread>

#include "executor/yield.h"

namespace weft {
namespace detail {
namespace {

// How many child runs the parent makes before it yields to its own
// executor: a group whose children keep waking each other must not keep the
// worker from its other tasks (FuturesUnordered yields after 32 polls for
// the same reason).
constexpr uint32_t kRunsBeforeYield = 32;

// Suspends the parent until a child is ready; returns the ready chain.
class ReadyBatch {
 public:
  explicit ReadyBatch(JoinSet* set) noexcept : set_(set) {}
  bool await_ready() const noexcept { return false; }
  template <WeftPromise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    batch_ = set_->take_or_register(current_waker(h));
    suspended_ = batch_ == nullptr;
    return suspended_;
  }
  // Woken by the schedule() that pushed a child, so the list is not empty.
  TaskHeader* await_resume() noexcept { return batch_ ? batch_ : set_->take(); }
  bool suspended() const noexcept { return suspended_; }

 private:
  JoinSet* set_;
  TaskHeader* batch_ = nullptr;
  bool suspended_ = false;
};

}  // namespace

// --- JoinSet ---------------------------------------------------------------

void JoinSet::schedule(TaskHeader* t) noexcept {
  Waker parent;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready_.push_back(t);
    parent = std::move(parent_);
  }
  // Not touching `this` any more: once the child is on the list, the parent
  // may run it to the end and destroy the group.
  std::move(parent).wake();
}

void JoinSet::push(TaskHeader* t) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  ready_.push_back(t);
}

TaskHeader* JoinSet::take() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_.take_all();
}

TaskHeader* JoinSet::take_or_register(Waker parent) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_.empty()) {
    parent_ = std::move(parent);
    return nullptr;
  }
  return ready_.take_all();  // `parent` is dropped after unlocking
}

// --- JoinGroup -------------------------------------------------------------

JoinGroup::JoinGroup(Mode mode, size_t expected_children) : mode_(mode) {
  children_.reserve(expected_children);
}

void JoinGroup::add(TaskHeader* child, ErrorFn error) {
  children_.push_back(Child{child, error, false});
  ++remaining_;
  set_.push(child);  // it starts SCHEDULED: its first run is ours to make
}

size_t JoinGroup::index_of(TaskHeader* t) const noexcept {
  auto it = std::lower_bound(by_header_.begin(), by_header_.end(),
                             std::pair<TaskHeader*, size_t>(t, 0));
  return it->second;
}

void JoinGroup::on_finished(size_t i) noexcept {
  children_[i].finished = true;
  --remaining_;
  if (cancelling_) return;  // destroyed as cancelled (or lost the race)
  // Completed (only the group closes children, and it has not yet).
  std::exception_ptr e = children_[i].error(children_[i].header);
  if (mode_ == Mode::kAny || e) {
    decisive_ = i;
    error_ = std::move(e);
    cancel_unfinished();
  }
}

void JoinGroup::cancel_unfinished() noexcept {
  cancelling_ = true;
  for (Child& c : children_) {
    if (c.finished) continue;
    if (close_for_shutdown(c.header)) {
      // Idle: the frame is ours (step 1).
      destroy_closed(c.header);
      c.finished = true;
      --remaining_;
    }
    // Else SCHEDULED: it arrives on the ready list, where run_task()
    // destroys it (step 2).
  }
}

bool JoinGroup::run_batch(TaskHeader* batch) noexcept {
  bool yielded = false;
  while (batch) {
    TaskHeader* t = batch;
    batch = t->next;
    t->next = nullptr;
    size_t i = index_of(t);
    switch (run_task(t)) {
      case RunResult::kIdle:
        break;
      case RunResult::kReschedule:  // it yielded: again, after the parent yields
        set_.push(t);
        yielded = true;
        break;
      case RunResult::kFinished:
        on_finished(i);
        break;
    }
  }
  return yielded;
}

Task<void> JoinGroup::run() {
  by_header_.reserve(children_.size());
  for (size_t i = 0; i < children_.size(); ++i) by_header_.emplace_back(children_[i].header, i);
  std::sort(by_header_.begin(), by_header_.end());

  uint32_t runs_since_suspend = 0;
  while (remaining_ > 0) {
    ReadyBatch wait(&set_);
    TaskHeader* batch = co_await wait;
    if (wait.suspended()) runs_since_suspend = 0;
    for (TaskHeader* t = batch; t; t = t->next) ++runs_since_suspend;
    bool yielded = run_batch(batch);
    if (remaining_ > 0 && (yielded || runs_since_suspend >= kRunsBeforeYield)) {
      runs_since_suspend = 0;
      co_await yield_now();
    }
  }
}

JoinGroup::~JoinGroup() {
  if (remaining_ > 0) {
    // The parent is being destroyed (or run() never finished): steps 1, 2.
    cancel_unfinished();
    if (by_header_.empty()) {
      for (size_t i = 0; i < children_.size(); ++i) by_header_.emplace_back(children_[i].header, i);
      std::sort(by_header_.begin(), by_header_.end());
    }
    while (remaining_ > 0) {
      TaskHeader* batch = set_.take();
      if (!batch) {
        // A waker set SCHEDULED but has not pushed yet; it will, within a
        // few instructions. We cannot suspend here.
        std::this_thread::yield();
        continue;
      }
      run_batch(batch);  // every child is CLOSED: each run destroys it
    }
  }
  // Step 3.
  for (Child& c : children_) handle_release(c.header, /*detach=*/false);
}

}  // namespace detail
}  // namespace weft
