// LocalQueue: a worker's fixed-capacity run queue. One owner pushes and pops;
// any thread may steal half of it.
//
// Threading rules as types (tokio's `Local` / `Steal`): the queue itself has
// no operations; it is reached through one of two handles.
// - LocalQueue::Owner: the one thread that owns the queue (for a worker, the
//   thread inside run() that holds its WorkerSlot). push_back and pop.
// - LocalQueue::Stealer: any thread. steal_into (into a queue the caller
//   owns, so it takes that queue's Owner handle) and steal_one.
// Both are one pointer wide and fully inline: a handle costs what a
// LocalQueue& costs. Owner is not copyable, so an owner's handle is not
// stored away where another thread could reach it by accident.
//
// The design is tokio's (queue.rs), in our words: `head` packs two 32-bit
// indices, `steal` and `real`. Both equal means nobody is stealing. A stealer
// claims a batch by moving `real` past it while `steal` stays put, copies the
// batch, then moves `steal` up to `real`. The owner measures free room from
// `steal`, so it never overwrites slots a stealer is still copying; it pops at
// `real`. Only one steal runs at a time (a second stealer backs off).
// Indices wrap around; capacity is a power of two.
//
// Memory ordering: the owner writes a slot, then stores `tail` with release;
// stealers load `tail` with acquire before reading slots. Claims and pops
// are acq_rel CASes on `head`, which order the slot reads before the owner
// may reuse the slots (the owner loads `head` with acquire before pushing).
//
// Example:
//   LocalQueue q, mine;
//   LocalQueue::Owner owner(q);               // on the owning thread
//   owner.push_back(task);
//   LocalQueue::Owner my_owner(mine);         // a thief's own queue
//   TaskHeader* t = LocalQueue::Stealer(q).steal_into(my_owner);
#ifndef WEFT_EXECUTOR_LOCAL_QUEUE_H_
#define WEFT_EXECUTOR_LOCAL_QUEUE_H_

#include <cstdint>

#include "executor/atomic.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {

// 256 slots hold a burst of spawns without touching the shared injector
// (tokio's choice); the checking build (sanitizer configs) shrinks it to 4 so
// that overflow and steal edge cases happen in every test.
#ifdef WEFT_CHECKED_BUILD
inline constexpr uint32_t kLocalQueueCapacity = 4;
#else
inline constexpr uint32_t kLocalQueueCapacity = 256;
#endif

class LocalQueue {
 public:
  static constexpr uint32_t kCapacity = kLocalQueueCapacity;
  static constexpr uint32_t kMask = kCapacity - 1;
  static_assert((kCapacity & kMask) == 0, "capacity must be a power of two");

  // A batch handed back when the queue is full: a linked list via next.
  struct Overflow {
    TaskHeader* first = nullptr;
    TaskHeader* last = nullptr;
    uint32_t count = 0;
  };

  class Owner;
  class Stealer;

  LocalQueue() = default;
  LocalQueue(const LocalQueue&) = delete;
  LocalQueue& operator=(const LocalQueue&) = delete;

 private:
  static uint32_t steal_of(uint64_t h) noexcept { return static_cast<uint32_t>(h >> 32); }
  static uint32_t real_of(uint64_t h) noexcept { return static_cast<uint32_t>(h); }
  static uint64_t pack(uint32_t steal, uint32_t real) noexcept {
    return (uint64_t{steal} << 32) | real;
  }
  static void append(Overflow& o, TaskHeader* t) noexcept {
    t->next = nullptr;
    if (o.last) o.last->next = t; else o.first = t;
    o.last = t;
    ++o.count;
  }

  // Any thread; a snapshot.
  uint32_t len() const noexcept {
    uint64_t head = head_.load(std::memory_order_acquire);
    return tail_.load(std::memory_order_acquire) - real_of(head);
  }

  alignas(64) weft::atomic<uint64_t> head_{0};  // steal << 32 | real
  alignas(64) weft::atomic<uint32_t> tail_{0};  // written by the owner only
  weft::atomic<TaskHeader*> buffer_[kCapacity] = {};
};

// The owning thread's handle: the only one that pushes and pops.
class LocalQueue::Owner {
 public:
  explicit Owner(LocalQueue& q) noexcept : q_(&q) {}
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;

  // Pushes `t`; when full, returns half the queue plus `t` as an Overflow
  // batch for the caller to put on the injector (and pushes nothing).
  Overflow push_back(TaskHeader* t) noexcept {
    LocalQueue& q = *q_;
    for (;;) {
      // acquire: pairs with the stealers' release of `head`, so slots they
      // finished copying may be reused.
      uint64_t head = q.head_.load(std::memory_order_acquire);
      uint32_t steal = steal_of(head), real = real_of(head);
      // relaxed: only the owner writes tail.
      uint32_t tail = q.tail_.load(std::memory_order_relaxed);
      if (tail - steal < kCapacity) {
        q.buffer_[tail & kMask].store(t, std::memory_order_relaxed);
        // release: pairs with the acquire loads of tail in steal_into/steal_one.
        q.tail_.store(tail + 1, std::memory_order_release);
        return {};
      }
      if (steal != real) {
        // A stealer is copying; it will make room. Hand just `t` over.
        t->next = nullptr;
        return {t, t, 1};
      }
      // Full: move the older half out, in one claim.
      const uint32_t half = kCapacity / 2;
      uint64_t next = pack(real + half, real + half);
      // release: pairs with a stealer's acquire of head (the slots we claim
      // are no longer theirs to take).
      if (!q.head_.compare_exchange_strong(head, next, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        continue;  // a stealer took some: there is room now
      }
      Overflow out;
      for (uint32_t i = 0; i < half; ++i) {
        TaskHeader* x = q.buffer_[(real + i) & kMask].load(std::memory_order_relaxed);
        append(out, x);
      }
      append(out, t);
      return out;
    }
  }

  // Pops the oldest task, or null.
  TaskHeader* pop() noexcept {
    LocalQueue& q = *q_;
    // acquire: pairs with stealers' release of head.
    uint64_t head = q.head_.load(std::memory_order_acquire);
    for (;;) {
      uint32_t steal = steal_of(head), real = real_of(head);
      uint32_t tail = q.tail_.load(std::memory_order_relaxed);  // owner's own
      if (real == tail) return nullptr;
      uint64_t next = steal == real ? pack(real + 1, real + 1) : pack(steal, real + 1);
      // acq_rel: claims the slot against stealers (who CAS the same word).
      if (q.head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        return q.buffer_[real & kMask].load(std::memory_order_relaxed);
      }
    }
  }

  bool is_empty() const noexcept { return len() == 0; }
  uint32_t len() const noexcept { return q_->len(); }

 private:
  friend class Stealer;  // steal_into fills the thief's own queue
  LocalQueue* q_;
};

// Any thread's handle: takes from the queue, never adds to it.
class LocalQueue::Stealer {
 public:
  explicit Stealer(LocalQueue& q) noexcept : q_(&q) {}

  // Moves half of this queue into `dst`, a queue the caller owns, and
  // returns one of the moved tasks to run now, or null.
  TaskHeader* steal_into(Owner& dst_owner) noexcept {
    LocalQueue& q = *q_;
    LocalQueue& dst = *dst_owner.q_;
    uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);  // dst is ours
    uint64_t dst_head = dst.head_.load(std::memory_order_acquire);
    if (dst_tail - steal_of(dst_head) > kCapacity / 2) return nullptr;  // no room

    // acquire: pairs with the owner's and other stealers' release of head.
    uint64_t head = q.head_.load(std::memory_order_acquire);
    uint32_t first, n;
    for (;;) {
      uint32_t steal = steal_of(head), real = real_of(head);
      if (steal != real) return nullptr;  // another steal in progress
      // acquire: pairs with the owner's release store of tail.
      uint32_t tail = q.tail_.load(std::memory_order_acquire);
      n = tail - real;
      n -= n / 2;
      if (n == 0) return nullptr;
      uint64_t next = pack(steal, real + n);
      if (q.head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        first = real;
        head = next;
        break;
      }
    }
    for (uint32_t i = 0; i < n; ++i) {
      TaskHeader* t = q.buffer_[(first + i) & kMask].load(std::memory_order_relaxed);
      dst.buffer_[(dst_tail + i) & kMask].store(t, std::memory_order_relaxed);
    }
    // Done copying: let the owner reuse the slots. release: pairs with the
    // owner's acquire of head in push_back.
    for (;;) {
      uint64_t next = pack(real_of(head), real_of(head));
      if (q.head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        break;
      }
    }
    --n;
    TaskHeader* ret = dst.buffer_[(dst_tail + n) & kMask].load(std::memory_order_relaxed);
    // release: publishes the copied slots to thieves of dst.
    if (n > 0) dst.tail_.store(dst_tail + n, std::memory_order_release);
    return ret;
  }

  // Takes the oldest task, or null (also when a steal is under way). For
  // threads that run a task without a queue of their own.
  TaskHeader* steal_one() noexcept {
    LocalQueue& q = *q_;
    uint64_t head = q.head_.load(std::memory_order_acquire);
    for (;;) {
      uint32_t steal = steal_of(head), real = real_of(head);
      if (steal != real) return nullptr;
      // acquire: pairs with the owner's release store of tail.
      if (q.tail_.load(std::memory_order_acquire) == real) return nullptr;
      // The slot must be read before the claim: after it the owner may reuse
      // it. A failed CAS discards the read.
      TaskHeader* t = q.buffer_[real & kMask].load(std::memory_order_relaxed);
      if (q.head_.compare_exchange_weak(head, pack(real + 1, real + 1),
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
        return t;
      }
    }
  }

  // A snapshot.
  bool is_empty() const noexcept { return len() == 0; }
  uint32_t len() const noexcept { return q_->len(); }

 private:
  LocalQueue* q_;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_LOCAL_QUEUE_H_
