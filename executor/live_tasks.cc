#include "executor/live_tasks.h"

namespace weft {
namespace detail {
namespace {
uint32_t shard_for_this_thread(uint32_t shards) noexcept {
  // Each thread sticks to one shard; threads are spread round-robin.
  static std::atomic<uint32_t> next{0};
  // relaxed: only distinctness matters, not ordering.
  thread_local uint32_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % shards;
}
}  // namespace

void LiveTasks::insert(TaskHeader* t) noexcept {
  uint32_t s = shard_for_this_thread(kShards);
  Shard& sh = shards_[s];
  std::lock_guard<std::mutex> lock(sh.mu);
  t->live_shard.store(s, std::memory_order_relaxed);
  t->live_prev = nullptr;
  t->live_next = sh.head;
  if (sh.head) sh.head->live_prev = t;
  sh.head = t;
  ++sh.inserted;
  ++sh.live;
}

bool LiveTasks::remove(TaskHeader* t) noexcept {
  // relaxed: a hint for which lock to take; only take_all changes it after
  // insert (to kTaken, under this same shard's lock), so re-read it there.
  uint32_t s = t->live_shard.load(std::memory_order_relaxed);
  if (s == kTaken) return false;
  Shard& sh = shards_[s];
  std::lock_guard<std::mutex> lock(sh.mu);
  if (t->live_shard.load(std::memory_order_relaxed) == kTaken) return false;
  if (t->live_prev) t->live_prev->live_next = t->live_next; else sh.head = t->live_next;
  if (t->live_next) t->live_next->live_prev = t->live_prev;
  t->live_prev = t->live_next = nullptr;
  --sh.live;
  return true;
}

std::vector<TaskHeader*> LiveTasks::take_all() {
  std::vector<TaskHeader*> all;
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    for (TaskHeader* t = sh.head; t; t = t->live_next) {
      // Listed means not finished, so the frame (and its reference) is
      // alive: taking another is safe. It keeps the header alive for the
      // caller even if a racing push destroys the task once remove() stops
      // seeing it.
      ref_inc(t);
      t->live_shard.store(kTaken, std::memory_order_relaxed);
      all.push_back(t);
    }
    sh.head = nullptr;
    sh.live = 0;
  }
  return all;
}

TaskDump LiveTasks::dump() const {
  TaskDump d;
  d.tasks.reserve(counts().live);
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    for (const TaskHeader* t = sh.head; t; t = t->live_next) {
      // Listed means not finished: the frame holds its reference, so the
      // header is alive while we hold the lock. spawned_at was written
      // before insert() took this lock.
      // acquire: pairs with the runner's release of the state word; only
      // the flags and generation are read from it.
      const uint64_t s = t->state.load(std::memory_order_acquire);
      TaskInfo info;
      info.id = reinterpret_cast<uintptr_t>(t);
      if (s & (state::kCompleted | state::kClosed)) {
        info.status = TaskStatus::kFinishing;
      } else if (s & state::kRunning) {
        info.status = TaskStatus::kRunning;
      } else if (s & state::kScheduled) {
        info.status = TaskStatus::kScheduled;
      } else {
        info.status = TaskStatus::kIdle;
      }
      info.runs = s >> state::kGenShift;
      info.joined = (s & state::kHandle) != 0;
      info.spawned_at = t->spawned_at;
      d.tasks.push_back(info);
    }
  }
  return d;
}

LiveTasks::Counts LiveTasks::counts() const {
  Counts c;
  for (const Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    c.inserted += sh.inserted;
    c.live += sh.live;
  }
  return c;
}

}  // namespace detail
}  // namespace weft
