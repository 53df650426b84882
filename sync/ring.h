// Ring<T>: a growable FIFO ring buffer with push at both ends (internal).
//
// What it is for: a Channel's buffered items. std::deque would do, but it
// allocates and frees a block every few hundred items of a channel that keeps
// filling and draining; a ring keeps its storage, so a channel in steady state
// does not touch the heap. Capacity is a power of two and only grows.
//
// Not thread-safe: the channel's lock guards it.
//
// Exceptions from T's move constructor: push_back / push_front leave the
// ring unchanged (and the value with the caller); front() + drop_front()
// let a caller move the front item out and remove it only once the move
// succeeded. Growth copies instead of moving when T's move may throw and T
// can be copied (std::move_if_noexcept), so a throw leaves every item in
// place; a move-only T whose move throws during growth gets only the basic
// guarantee (the items already moved are lost).
#ifndef WEFT_SYNC_RING_H_
#define WEFT_SYNC_RING_H_

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace weft {
namespace detail {

template <class T>
class Ring {
 public:
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Both pushes grow before they move from `v`, so a failed allocation
  // leaves `v` with the caller.
  void push_back(T&& v) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & mask()].emplace(std::move(v));
    ++size_;
  }
  // For an item given back by a cancelled receiver: it was the oldest.
  void push_front(T&& v) {
    if (size_ == slots_.size()) grow();
    head_ = (head_ - 1) & mask();
    slots_[head_].emplace(std::move(v));
    ++size_;
  }
  // Requires !empty().
  T& front() noexcept { return *slots_[head_]; }
  // Removes the front item (moved from, or not). Requires !empty().
  void drop_front() noexcept {
    slots_[head_].reset();
    head_ = (head_ + 1) & mask();
    --size_;
  }
  // Requires !empty().
  T pop_front() {
    std::optional<T>& slot = slots_[head_];
    T v = std::move(*slot);
    slot.reset();
    head_ = (head_ + 1) & mask();
    --size_;
    return v;
  }

 private:
  // The first allocation: small, since most channels hold few items at once.
  static constexpr size_t kInitialSlots = 8;

  size_t mask() const noexcept { return slots_.size() - 1; }
  void grow() {
    std::vector<std::optional<T>> bigger(slots_.empty() ? kInitialSlots : 2 * slots_.size());
    for (size_t i = 0; i < size_; ++i) {
      bigger[i].emplace(std::move_if_noexcept(*slots_[(head_ + i) & mask()]));
    }
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<std::optional<T>> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_SYNC_RING_H_
