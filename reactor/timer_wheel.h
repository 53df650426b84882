// TimerWheel: the reactor's timers. A hierarchical timing wheel with O(1)
// insert and cancel, for the thread that drives the reactor.
//
// What it is for: every sleep_for / Timer / Interval is a TimerNode embedded
// in its entry (no allocation). The driver inserts and removes nodes, asks
// next_expiration() for its epoll timeout, and calls poll() when it wakes.
//
// Requirements:
// - One thread at a time. The wheel has no lock and no atomics; it belongs to
//   whoever drives the reactor. Other threads hand timers to that thread.
// - No clock of its own: time is milliseconds in a base the caller chooses,
//   passed to the constructor and to poll(). It never goes backwards, and
//   stays below kMaxTimeMs. Any deadline is accepted, up to UINT64_MAX.
// - A node is linked in at most one wheel, stays at the same address while
//   linked, and is removed before it is destroyed (~TimerNode checks this).
//   Its deadline_ms must not change while it is linked.
//
// Guarantees:
// - insert() and remove() are O(1); next_expiration() is O(levels).
// - poll(now) calls fire(node) exactly once for every node that was linked
//   when poll began and has deadline_ms <= now, unless it is removed first
//   (also from inside an earlier fire in the same poll). Never early: a node
//   does not fire in a poll whose now is below its deadline.
// - Order: nodes that were already overdue when inserted fire first, in
//   insertion order; then the rest by nondecreasing deadline. Ties in any order.
// - A node is unlinked before fire sees it, so fire may re-insert it. A node
//   inserted from inside fire is due at the next poll at the earliest, even if
//   its deadline has passed: a zero-period interval cannot livelock a poll.
// - If fire throws, the nodes not yet fired stay due and fire at the next poll.
// - Destroying the wheel unlinks whatever it still holds (it owns no node).
//
// Example (also a test in timer_wheel_test.cc):
//   TimerWheel wheel(/*now_ms=*/1000);
//   TimerNode node;
//   node.deadline_ms = 1250;
//   wheel.insert(&node);
//   *wheel.next_expiration();              // 1250 (or earlier), epoll timeout
//   wheel.poll(1249, [](TimerNode*) {});   // nothing fires
//   wheel.poll(1250, [](TimerNode* n) {}); // fires &node, which is unlinked
//
// Implementation (tokio's wheel, in our words):
// - Levels. Level L has 64 slots of 64^L ms, so one turn of it spans 64^(L+1)
//   ms: 64 ms, 4 s, 4.4 min, 4.7 h, 12.4 days, 2.2 years. A node goes to the
//   level of the highest 6-bit digit in which its deadline differs from now
//   (from `deadline ^ now`), into the slot named by that digit of the deadline.
//   So a node at level L < 5 shares every digit above L with now, and its slot
//   lies ahead of now's slot in the same turn: slots never wrap below the top.
// - Expiry. A slot's time is its first millisecond. The earliest occupied slot
//   is in the lowest non-empty level (everything at level L is due before the
//   current turn of level L ends, which is before any slot of level L+1
//   starts), found by rotating the level's 64-bit occupancy word so that the
//   slot after now's comes first and counting trailing zeros.
// - Cascade. poll(now) takes the earliest occupied slot while its time T is
//   <= now, sets the wheel's time to T and places each of its nodes again:
//   deadline T means due; otherwise the deadline now differs from T only in
//   lower digits, so the node drops to a lower level. A node therefore moves
//   at most once per level, and poll's work is O(due nodes + slots crossed
//   that hold anything).
// - The top level is a ring. Its slot for a deadline is that deadline's digit,
//   even when it belongs to the next turn (it is then behind now's slot and
//   its time is one turn later). A deadline 64 or more top slots ahead
//   (beyond ~2.2 years) is clamped to the farthest slot: now's own slot, next
//   turn. When that slot comes up, the node is placed again from there, and
//   so on until it is within range. (Placing again is what keeps any slot
//   from firing a node early; the clamp bounds how far ahead a slot's time is.)
// - Due nodes wait in a FIFO list until fire. poll() first advances the
//   wheel (no callbacks), moving every due node there, then swaps that list
//   out and fires it node by node; new due nodes go to the other list.
#ifndef WEFT_REACTOR_TIMER_WHEEL_H_
#define WEFT_REACTOR_TIMER_WHEEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>

namespace weft {
namespace detail {

class TimerWheel;

// Embedded in a timer entry. The wheel links it through prev/next.
struct TimerNode {
  uint64_t deadline_ms = 0;   // absolute, in the wheel's time base
  TimerNode* prev = nullptr;  // owned by the wheel while linked
  TimerNode* next = nullptr;

  TimerNode() = default;
  // A linked node's address is in the wheel: no copies, no moves.
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;
  ~TimerNode();  // aborts if still linked: the wheel would keep a dangling pointer

  // In a wheel (waiting, or due and not yet fired). False inside fire.
  bool linked() const noexcept { return where_ != kUnlinked; }

 private:
  friend class TimerWheel;
  // Which list holds the node: level * 64 + slot for a wheel slot, kDue + i
  // for the wheel's due list i, or kUnlinked.
  static constexpr uint16_t kDue = 6 * 64;
  static constexpr uint16_t kUnlinked = 0xFFFF;
  uint16_t where_ = kUnlinked;
};

class TimerWheel {
 public:
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;  // 64: one occupancy word per level
  // Six levels reach 2^36 ms (~2.2 years) at 1 ms resolution, which covers
  // every realistic timeout; farther deadlines are clamped and re-placed.
  static constexpr int kLevels = 6;
  static constexpr uint64_t kRangeMs = uint64_t{1} << (kSlotBits * kLevels);
  // Slot times are computed up to one ring turn past now; this keeps them
  // from overflowing (2^63 ms is 292 million years from the time base).
  static constexpr uint64_t kMaxTimeMs = uint64_t{1} << 63;
  static_assert(TimerNode::kDue == kLevels * kSlots, "TimerNode::where_ encodes level * 64 + slot");

  explicit TimerWheel(uint64_t now_ms = 0);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // O(1). `n` must not be linked. A deadline <= now() is due at the next poll.
  void insert(TimerNode* n);
  // O(1). `n` must be linked in this wheel (waiting or due).
  void remove(TimerNode* n);

  // Advances the wheel to now_ms (>= now()) and calls fire(TimerNode*) for
  // every node whose deadline_ms <= now_ms, each exactly once, unlinked before
  // the call. fire may insert or remove nodes (re-insert the same node with
  // any deadline too) but must not call poll(). See the header for ordering.
  template <class F>
  void poll(uint64_t now_ms, F&& fire);

  // The earliest time at which a poll could fire something, or nullopt if
  // the wheel is empty. Never later than the earliest deadline; <= now() iff
  // something is due. It may be earlier than every deadline: a node at a
  // high level is reported at its slot's time, and the poll then cascades it
  // (so a far timer costs the driver at most one wake-up per level).
  std::optional<uint64_t> next_expiration() const noexcept;

  size_t size() const noexcept { return size_; }  // linked nodes, due ones included
  bool empty() const noexcept { return size_ == 0; }
  uint64_t now() const noexcept { return now_; }

 private:
  struct List {
    TimerNode* head = nullptr;
    TimerNode* tail = nullptr;
  };
  struct Slot {
    int level;
    int slot;
    uint64_t time;  // the slot's first millisecond
  };
  static constexpr uint64_t kNoDeadline = UINT64_MAX;

  std::optional<Slot> earliest_slot() const noexcept;
  void place(TimerNode* n) noexcept;  // into its slot, or the due list if <= now_
  void begin_poll(uint64_t now_ms);   // advances, then swaps the due lists
  void end_poll() noexcept;           // gives back what fire did not reach (throw)
  List& list_of(uint16_t where) noexcept;
  static void push_back(List& l, TimerNode* n, uint16_t where) noexcept;
  static void unlink(List& l, TimerNode* n) noexcept;

  // Pops the next node to fire, unlinked, or null.
  TimerNode* pop_firing() noexcept {
    List& l = due_[firing_];
    TimerNode* n = l.head;
    if (n == nullptr) return nullptr;
    unlink(l, n);
    n->where_ = TimerNode::kUnlinked;
    if (l.head == nullptr) due_min_[firing_] = kNoDeadline;
    --size_;
    return n;
  }

  uint64_t now_;      // the wheel's time: only poll() moves it, never back
  size_t size_ = 0;   // nodes in slots_ and due_
  bool polling_ = false;  // inside poll(): fire must not poll again
  // The due lists: nodes with deadline <= now_, in the order they became due.
  // due_[1 - firing_] takes new ones; due_[firing_] is the batch poll is
  // firing (empty outside poll). due_min_ is <= every deadline in its list
  // (exact until a removal), kNoDeadline when the list is empty.
  List due_[2];
  uint64_t due_min_[2] = {kNoDeadline, kNoDeadline};
  int firing_ = 0;
  // Bit s of occupied_[L] is set iff slots_[L][s] is non-empty.
  uint64_t occupied_[kLevels] = {};
  List slots_[kLevels][kSlots];
};

template <class F>
void TimerWheel::poll(uint64_t now_ms, F&& fire) {
  begin_poll(now_ms);
  struct EndPoll {
    TimerWheel* wheel;
    ~EndPoll() { wheel->end_poll(); }
  } end_poll_on_exit{this};
  while (TimerNode* n = pop_firing()) fire(n);
}

}  // namespace detail
}  // namespace weft

#endif  // WEFT_REACTOR_TIMER_WHEEL_H_
