// TimerWheel: placement, cascading and the misuse checks. The design is in
// timer_wheel.h.
#include "reactor/timer_wheel.h"

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace weft {
namespace detail {

namespace {

constexpr int kTop = TimerWheel::kLevels - 1;
constexpr uint64_t kSlotMask = TimerWheel::kSlots - 1;
constexpr int kTopShift = TimerWheel::kSlotBits * kTop;  // one top slot is 2^30 ms

[[noreturn]] void misuse(const char* what) {
  std::fprintf(stderr, "weft: TimerWheel: %s\n", what);
  std::abort();
}

int shift_of(int level) { return TimerWheel::kSlotBits * level; }

// The level whose digit is the highest one in which `deadline` differs from
// `now` (deadline > now). Digits above the top level count as the top level.
int level_for(uint64_t now, uint64_t deadline) {
  // | kSlotMask: a difference in digit 0 only is level 0 (and avoids clz(0)).
  uint64_t diff = (now ^ deadline) | kSlotMask;
  int level = (63 - std::countl_zero(diff)) / TimerWheel::kSlotBits;
  return level < kTop ? level : kTop;
}

}  // namespace

TimerNode::~TimerNode() {
  if (linked()) misuse("a TimerNode was destroyed while linked (remove() it first)");
}

TimerWheel::TimerWheel(uint64_t now_ms) : now_(now_ms) {
  if (now_ms >= kMaxTimeMs) misuse("time must stay below kMaxTimeMs");
}

TimerWheel::~TimerWheel() {
  // The nodes belong to their owners, who may outlive the wheel: leave them
  // unlinked rather than pointing into a dead wheel.
  auto release = [](List& l) {
    for (TimerNode* n = l.head; n != nullptr;) {
      TimerNode* next = n->next;
      n->prev = n->next = nullptr;
      n->where_ = TimerNode::kUnlinked;
      n = next;
    }
  };
  for (auto& level : slots_) {
    for (List& l : level) release(l);
  }
  release(due_[0]);
  release(due_[1]);
}

void TimerWheel::insert(TimerNode* n) {
  if (n->linked()) misuse("insert() of a node that is already linked");
  place(n);
  ++size_;
}

void TimerWheel::remove(TimerNode* n) {
  if (!n->linked()) misuse("remove() of a node that is not linked");
  uint16_t where = n->where_;
  List& l = list_of(where);
  unlink(l, n);
  n->where_ = TimerNode::kUnlinked;
  --size_;
  if (l.head != nullptr) return;
  if (where >= TimerNode::kDue) {
    due_min_[where - TimerNode::kDue] = kNoDeadline;
  } else {
    occupied_[where / kSlots] &= ~(uint64_t{1} << (where % kSlots));
  }
}

std::optional<uint64_t> TimerWheel::next_expiration() const noexcept {
  if (due_[0].head != nullptr || due_[1].head != nullptr) {
    return due_min_[0] < due_min_[1] ? due_min_[0] : due_min_[1];
  }
  if (std::optional<Slot> s = earliest_slot()) return s->time;
  return std::nullopt;
}

// The lowest non-empty level holds the earliest slot (see the header). Within
// a level, the search starts at the slot after now's and wraps around, so
// now's own slot comes last: at the top level it can only hold nodes for the
// next turn of the ring; below the top it is always empty.
std::optional<TimerWheel::Slot> TimerWheel::earliest_slot() const noexcept {
  for (int level = 0; level < kLevels; ++level) {
    uint64_t occupied = occupied_[level];
    if (occupied == 0) continue;
    int shift = shift_of(level);
    uint64_t now_slot = (now_ >> shift) & kSlotMask;
    // Rotate so that bit 0 is the slot after now's; ahead is in 1..64 slots.
    int rot = static_cast<int>((now_slot + 1) & kSlotMask);
    uint64_t ahead = static_cast<uint64_t>(std::countr_zero(std::rotr(occupied, rot))) + 1;
#ifdef WEFT_CHECKED_BUILD
    if (level < kTop && now_slot + ahead >= kSlots) misuse("invariant: a lower level wrapped");
#endif
    int slot = static_cast<int>((now_slot + ahead) & kSlotMask);
    return Slot{level, slot, ((now_ >> shift) + ahead) << shift};
  }
  return std::nullopt;
}

void TimerWheel::place(TimerNode* n) noexcept {
  uint64_t deadline = n->deadline_ms;
  if (deadline <= now_) {
    int i = 1 - firing_;
    if (deadline < due_min_[i]) due_min_[i] = deadline;
    push_back(due_[i], n, static_cast<uint16_t>(TimerNode::kDue + i));
    return;
  }
  int level = level_for(now_, deadline);
  uint64_t slot;
  if (level < kTop) {
    slot = (deadline >> shift_of(level)) & kSlotMask;
  } else {
    // The top level is a ring of 64 slots of 2^30 ms, now's slot counting as
    // the one 64 slots on. A deadline farther than that is clamped to it.
    uint64_t now_top = now_ >> kTopShift;
    uint64_t deadline_top = deadline >> kTopShift;
    slot = (deadline_top - now_top <= kSlots ? deadline_top : now_top) & kSlotMask;
  }
  push_back(slots_[level][slot], n, static_cast<uint16_t>(level * kSlots + slot));
  occupied_[level] |= uint64_t{1} << slot;
}

void TimerWheel::begin_poll(uint64_t now_ms) {
  if (polling_) misuse("poll() called from inside a fire callback");
  if (now_ms < now_) misuse("poll() with a time earlier than now()");
  if (now_ms >= kMaxTimeMs) misuse("time must stay below kMaxTimeMs");
  // Take slots in time order until the next one is after now_ms. Each node
  // in a taken slot is due (deadline == its time) or drops to a lower level;
  // clamped far-future nodes go back to the top level, one turn later.
  while (std::optional<Slot> s = earliest_slot()) {
    if (s->time > now_ms) break;
    now_ = s->time;
    List taken = std::exchange(slots_[s->level][s->slot], List{});
    occupied_[s->level] &= ~(uint64_t{1} << s->slot);
    for (TimerNode* n = taken.head; n != nullptr;) {
      TimerNode* next = n->next;  // place() relinks n
      place(n);
      n = next;
    }
  }
  // Every slot left is after now_ms, so it is still ahead of now's slot in
  // its level (or within one turn, at the top): the invariants hold.
  now_ = now_ms;
  // The due list becomes the batch to fire; nodes due from now on (inserted
  // by fire) collect in the other list, for the next poll.
  firing_ = 1 - firing_;
  polling_ = true;
}

void TimerWheel::end_poll() noexcept {
  polling_ = false;
  List& left = due_[firing_];
  if (left.head == nullptr) return;
  // fire threw. The rest of the batch is still due: put it in front of what
  // became due during the poll, so it fires first at the next poll.
  List& due = due_[1 - firing_];
  uint16_t where = static_cast<uint16_t>(TimerNode::kDue + 1 - firing_);
  for (TimerNode* n = left.head; n != nullptr; n = n->next) n->where_ = where;
  if (due.head != nullptr) {
    left.tail->next = due.head;
    due.head->prev = left.tail;
    left.tail = due.tail;
  }
  due = std::exchange(left, List{});
  uint64_t& min = due_min_[1 - firing_];
  if (due_min_[firing_] < min) min = due_min_[firing_];
  due_min_[firing_] = kNoDeadline;
}

TimerWheel::List& TimerWheel::list_of(uint16_t where) noexcept {
  if (where >= TimerNode::kDue) return due_[where - TimerNode::kDue];
  return slots_[where / kSlots][where % kSlots];
}

void TimerWheel::push_back(List& l, TimerNode* n, uint16_t where) noexcept {
  n->where_ = where;
  n->next = nullptr;
  n->prev = l.tail;
  if (l.tail != nullptr) l.tail->next = n; else l.head = n;
  l.tail = n;
}

void TimerWheel::unlink(List& l, TimerNode* n) noexcept {
  if (n->prev != nullptr) n->prev->next = n->next; else l.head = n->next;
  if (n->next != nullptr) n->next->prev = n->prev; else l.tail = n->prev;
  n->prev = n->next = nullptr;
}

}  // namespace detail
}  // namespace weft
