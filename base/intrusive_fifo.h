// IntrusiveFifo: a singly linked first-in first-out list threaded through a
// pointer member of its nodes, the queue the injector, LocalExecutor, the
// join group and the blocking pool each wrote by hand.
//
// What it is for: a queue of objects that already carry a `next` link (task
// headers, blocking jobs), so queueing one allocates nothing.
//
// Requires: a node is in at most one list at a time and outlives its stay
// there. The list is not thread-safe: whoever owns it keeps its own lock
// (or its own thread) around every call, exactly as around the hand-written
// head/tail pointers it replaces. It never frees a node, and destroying a
// non-empty list only forgets its nodes.
//
// Guarantees: pop_front, take_chain and take_all hand back nodes in the order
// they were pushed. A node handed back alone (push_back's argument, pop_front's
// result) has `next` null; a chain handed back is null-terminated. Every call
// is O(1) except take_chain, which walks the nodes it takes.
//
// Example:
//   struct Job { Job* next = nullptr; };
//   weft::IntrusiveFifo<Job, &Job::next> queue;
//   Job a, b;
//   queue.push_back(&a);
//   queue.push_back(&b);
//   Job* first = queue.pop_front();  // &a
#ifndef WEFT_BASE_INTRUSIVE_FIFO_H_
#define WEFT_BASE_INTRUSIVE_FIFO_H_

#include <cstddef>
#include <utility>

namespace weft {

template <class Node, Node* Node::*Next>
class IntrusiveFifo {
 public:
  IntrusiveFifo() = default;
  IntrusiveFifo(const IntrusiveFifo&) = delete;
  IntrusiveFifo& operator=(const IntrusiveFifo&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  // The oldest node, still in the list; null when empty.
  Node* front() const noexcept { return head_; }
  // The newest node, still in the list; null when empty.
  Node* back() const noexcept { return tail_; }

  // Appends `n` (its `next` is overwritten).
  void push_back(Node* n) noexcept {
    n->*Next = nullptr;
    push_chain(n, n);
  }

  // Appends the chain first..last, linked through `next`; `last`'s link is
  // overwritten. The caller knows `last` (no walk).
  void push_chain(Node* first, Node* last) noexcept {
    last->*Next = nullptr;
    if (tail_) {
      tail_->*Next = first;
    } else {
      head_ = first;
    }
    tail_ = last;
  }

  // Moves every node of `other` to the end of this list, in order.
  void splice_back(IntrusiveFifo& other) noexcept {
    if (other.empty()) return;
    Node* last = other.tail_;
    push_chain(other.take_all(), last);
  }

  // Removes and returns the oldest node (its `next` cleared); null when empty.
  Node* pop_front() noexcept {
    Node* n = head_;
    if (n == nullptr) return nullptr;
    head_ = n->*Next;
    if (head_ == nullptr) tail_ = nullptr;
    n->*Next = nullptr;
    return n;
  }

  // Removes the oldest `max` nodes (fewer if the list is shorter) and
  // returns them as a null-terminated chain, oldest first; `*count` says
  // how many. Null (and 0) when empty or max == 0.
  Node* take_chain(size_t max, size_t* count) noexcept {
    *count = 0;
    if (head_ == nullptr || max == 0) return nullptr;
    Node* first = head_;
    Node* last = head_;
    size_t n = 1;
    while (n < max && last->*Next != nullptr) {
      last = last->*Next;
      ++n;
    }
    head_ = last->*Next;
    if (head_ == nullptr) tail_ = nullptr;
    last->*Next = nullptr;
    *count = n;
    return first;
  }

  // Empties the list and returns its nodes as a null-terminated chain,
  // oldest first (null when it was empty).
  Node* take_all() noexcept {
    tail_ = nullptr;
    return std::exchange(head_, nullptr);
  }

 private:
  Node* head_ = nullptr;  // the oldest node; null iff tail_ is
  Node* tail_ = nullptr;  // the newest node; its `next` is null
};

}  // namespace weft

#endif  // WEFT_BASE_INTRUSIVE_FIFO_H_
