// Idle: which workers of an Executor sleep, and how many search for work.
//
// What it is for: waking a sleeping worker costs a futex call on the waker's
// side and ~7.5 us before the sleeper runs (BENCH.md, floors), so an
// executor wakes one only when nobody is already looking for work. The rules
// are tokio's (idle.rs), in our words:
//   - a worker with nothing to run may *search* (steal from others) before
//     it sleeps; at most half the workers search at once;
//   - notify_one() wakes a sleeper only when no worker searches (a searcher
//     will find the new work); the woken worker starts out searching;
//   - a worker leaves the searching state before it runs any task, whatever
//     the task's source; the last searcher to leave wakes another sleeper,
//     since there may be more work than it took.
//
// Parking is three steps, so that a notification racing with a worker going
// to sleep is never lost (a Dekker pair of seq_cst fences):
//   1. prepare_park(): join the sleepers, leave searching, fence;
//   2. the caller re-checks every place work can appear and sleeps only if
//      it finds none;
//   3. unsleep(): leave the sleepers (or learn that a notifier took us out,
//      in which case we search).
// notify_one() fences, then reads the counts: either it sees the sleeper of
// step 1, or the sleeper sees the work pushed before notify_one.
//
// Threading: Member::searching belongs to the member's owner thread; the
// sleeper list is guarded by a mutex; the two counts are atomics read
// without it.
#ifndef WEFT_EXECUTOR_IDLE_H_
#define WEFT_EXECUTOR_IDLE_H_

#include <cstdint>
#include <mutex>
#include <vector>

#include "executor/atomic.h"
#include "executor/parker.h"

namespace weft {
namespace detail {

class Idle {
 public:
  struct Member {
    Parker parker;             // the owner sleeps here
    bool searching = false;    // owner thread only
    bool in_sleepers = false;  // guarded by Idle::mu_
  };

  explicit Idle(size_t capacity) { sleepers_.reserve(capacity); }
  // Makes room for `capacity` sleepers, so that prepare_park (noexcept)
  // never allocates. Called as workers join; may throw std::bad_alloc.
  void reserve(size_t capacity) {
    std::lock_guard<weft::mutex> lock(mu_);
    sleepers_.reserve(capacity);
  }

  // Starts searching unless half of `num_workers` already do. Returns
  // whether `m` searches now.
  bool try_start_search(Member& m, size_t num_workers) noexcept;
  // Leaves the searching state (m.searching must be true) because `m` found
  // work; the last searcher to leave notifies another worker.
  void end_search(Member& m) noexcept;
  // Leaves the searching state (m.searching must be true) without having
  // found work (the caller will look elsewhere, then park). Returns whether
  // `m` was the last searcher: the caller must then make sure no work is
  // left waiting for a searcher (see Executor's work_until).
  bool give_up_search(Member& m) noexcept;
  // Wakes one sleeper, unless a worker is searching or nobody sleeps.
  void notify_one() noexcept;

  void prepare_park(Member& m) noexcept;
  void unsleep(Member& m) noexcept;

  uint32_t num_sleepers() const noexcept {
    // relaxed: a snapshot (see notify_one for where exactness matters).
    return num_sleepers_.load(std::memory_order_relaxed);
  }
  uint32_t num_searching() const noexcept {
    // relaxed: a snapshot for metrics; the protocol reads it after its fences.
    return num_searching_.load(std::memory_order_relaxed);
  }

 private:
  weft::mutex mu_;
  std::vector<Member*> sleepers_;  // guarded by mu_
  // Mirrors sleepers_.size() for the lock-free check in notify_one; changed
  // under mu_, read after a seq_cst fence.
  weft::atomic<uint32_t> num_sleepers_{0};
  // Workers searching for work: changed with seq_cst (Dekker with
  // notify_one and prepare_park), read relaxed after a seq_cst fence.
  weft::atomic<uint32_t> num_searching_{0};
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_IDLE_H_
