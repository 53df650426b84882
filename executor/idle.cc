#include "executor/idle.h"

namespace weft {
namespace detail {

bool Idle::try_start_search(Member& m, size_t num_workers) noexcept {
  if (m.searching) return true;
  // relaxed: the limit is a heuristic; the counts are exact where it
  // matters (notify_one and prepare_park read them after seq_cst fences).
  uint32_t searching = num_searching_.load(std::memory_order_relaxed);
  if (2 * searching >= num_workers) return false;
  num_searching_.fetch_add(1, std::memory_order_seq_cst);
  m.searching = true;
  return true;
}

void Idle::end_search(Member& m) noexcept {
  // We were the last searcher; there may be more work than we took.
  if (give_up_search(m)) notify_one();
}

bool Idle::give_up_search(Member& m) noexcept {
  m.searching = false;
  // seq_cst: part of the Dekker pair with notify_one (see the header).
  return num_searching_.fetch_sub(1, std::memory_order_seq_cst) == 1;
}

void Idle::notify_one() noexcept {
  // seq_cst fence: pairs with the fence in prepare_park(). Either this
  // thread sees the parking worker's registration, or that worker sees our
  // pushed task when it re-checks the queues. Without it both could miss.
  weft::atomic_thread_fence(std::memory_order_seq_cst);
  if (num_searching_.load(std::memory_order_relaxed) != 0) return;
  if (num_sleepers_.load(std::memory_order_relaxed) == 0) return;
  Member* wake = nullptr;
  {
    std::lock_guard<weft::mutex> lock(mu_);
    if (!sleepers_.empty()) {
      // Prefer a sleeper on the futex over the one watching I/O in
      // epoll_wait (task_threads.h): waking the watcher would leave I/O to
      // the reactor's fallback until it sleeps again.
      size_t pick = sleepers_.size() - 1;
      for (size_t i = sleepers_.size(); i-- > 0;) {
        if (!sleepers_[i]->parker.in_blocker()) {
          pick = i;
          break;
        }
      }
      wake = sleepers_[pick];
      sleepers_[pick] = sleepers_.back();
      sleepers_.pop_back();
      wake->in_sleepers = false;
      // relaxed: changed only under mu_; the lock-free reader orders itself
      // with the seq_cst fences.
      num_sleepers_.fetch_sub(1, std::memory_order_relaxed);
      // The woken worker starts out searching (see unsleep()).
      num_searching_.fetch_add(1, std::memory_order_seq_cst);
    }
  }
  if (wake) wake->parker.unpark();
}

void Idle::prepare_park(Member& m) noexcept {
  {
    std::lock_guard<weft::mutex> lock(mu_);
    sleepers_.push_back(&m);
    m.in_sleepers = true;
    // relaxed: as in notify_one; the seq_cst fence below publishes it.
    num_sleepers_.fetch_add(1, std::memory_order_relaxed);
  }
  // No wake-up owed as the last searcher: the caller re-checks for work
  // after the fence below and does not sleep if it finds any.
  if (m.searching) give_up_search(m);
  // seq_cst fence: pairs with notify_one()'s fence (see there).
  weft::atomic_thread_fence(std::memory_order_seq_cst);
}

void Idle::unsleep(Member& m) noexcept {
  std::lock_guard<weft::mutex> lock(mu_);
  if (m.in_sleepers) {  // woke by itself (or for the root): not searching
    for (size_t i = 0; i < sleepers_.size(); ++i) {
      if (sleepers_[i] == &m) {
        sleepers_[i] = sleepers_.back();
        sleepers_.pop_back();
        break;
      }
    }
    m.in_sleepers = false;
    // relaxed: as in notify_one.
    num_sleepers_.fetch_sub(1, std::memory_order_relaxed);
  } else {
    m.searching = true;  // notify_one counted us as searching
  }
}

}  // namespace detail
}  // namespace weft
