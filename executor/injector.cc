#include "executor/injector.h"

namespace weft {
namespace detail {

bool Injector::push_batch(TaskHeader* first, TaskHeader* last, size_t count) noexcept {
  std::lock_guard<weft::mutex> lock(mu_);
  if (closed_) return false;
  last->next = nullptr;
  if (tail_) tail_->next = first; else head_ = first;
  tail_ = last;
  // release: pairs with the acquire in len().
  len_.store(len_.load(std::memory_order_relaxed) + count, std::memory_order_release);
  return true;
}

TaskHeader* Injector::pop() noexcept {
  if (is_empty()) return nullptr;
  std::lock_guard<weft::mutex> lock(mu_);
  TaskHeader* t = head_;
  if (!t) return nullptr;
  head_ = t->next;
  if (!head_) tail_ = nullptr;
  t->next = nullptr;
  len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
  return t;
}

TaskHeader* Injector::pop_batch(size_t max, size_t* count) noexcept {
  *count = 0;
  if (is_empty() || max == 0) return nullptr;
  std::lock_guard<weft::mutex> lock(mu_);
  TaskHeader* first = head_;
  TaskHeader* last = nullptr;
  size_t n = 0;
  for (TaskHeader* t = head_; t && n < max; t = t->next) {
    last = t;
    ++n;
  }
  if (n == 0) return nullptr;
  head_ = last->next;
  if (!head_) tail_ = nullptr;
  last->next = nullptr;
  len_.store(len_.load(std::memory_order_relaxed) - n, std::memory_order_release);
  *count = n;
  return first;
}

TaskHeader* Injector::close() noexcept {
  std::lock_guard<weft::mutex> lock(mu_);
  closed_ = true;
  TaskHeader* all = head_;
  head_ = tail_ = nullptr;
  len_.store(0, std::memory_order_release);
  return all;
}

}  // namespace detail
}  // namespace weft
