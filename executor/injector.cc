#include "executor/injector.h"

namespace weft {
namespace detail {

bool Injector::push_batch(TaskHeader* first, TaskHeader* last, size_t count) noexcept {
  std::lock_guard<weft::mutex> lock(mu_);
  if (closed_) return false;
  queue_.push_chain(first, last);
  // release: pairs with the acquire in len().
  len_.store(len_.load(std::memory_order_relaxed) + count, std::memory_order_release);
  return true;
}

TaskHeader* Injector::pop() noexcept {
  if (is_empty()) return nullptr;
  std::lock_guard<weft::mutex> lock(mu_);
  TaskHeader* t = queue_.pop_front();
  if (!t) return nullptr;
  len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
  return t;
}

TaskHeader* Injector::pop_batch(size_t max, size_t* count) noexcept {
  *count = 0;
  if (is_empty() || max == 0) return nullptr;
  std::lock_guard<weft::mutex> lock(mu_);
  TaskHeader* first = queue_.take_chain(max, count);
  if (*count == 0) return nullptr;
  len_.store(len_.load(std::memory_order_relaxed) - *count, std::memory_order_release);
  return first;
}

TaskHeader* Injector::close() noexcept {
  std::lock_guard<weft::mutex> lock(mu_);
  closed_ = true;
  TaskHeader* all = queue_.take_all();
  len_.store(0, std::memory_order_release);
  return all;
}

}  // namespace detail
}  // namespace weft
