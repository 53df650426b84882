// LiveTasks: every task an executor has spawned that has not yet finished,
// so that destroying the executor can destroy them (including tasks that are
// suspended and referenced only by wakers somewhere else).
//
// Sharded intrusive lists (links in the TaskHeader, no allocation), each
// under its own lock, so that workers spawning at once rarely contend.
#ifndef WEFT_EXECUTOR_LIVE_TASKS_H_
#define WEFT_EXECUTOR_LIVE_TASKS_H_

#include <cstdint>
#include <vector>

#include <mutex>
#include "executor/task_dump.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {

class LiveTasks {
 public:
  void insert(TaskHeader* t) noexcept;
  // Removes `t`; returns false when take_all() had already taken it.
  bool remove(TaskHeader* t) noexcept;
  // Empties every shard and returns the tasks that were in them, each with a
  // reference taken for the caller (to drop with ref_dec). Later remove()
  // calls for those tasks are no-ops.
  std::vector<TaskHeader*> take_all();

  // Tasks ever inserted, and listed now (locks each shard in turn).
  struct Counts {
    uint64_t inserted = 0;
    size_t live = 0;
  };
  Counts counts() const;

  // Every listed task's state and spawn site (task_dump.h), one shard at a
  // time under its lock.
  TaskDump dump() const;

 private:
  // 16 shards: more than the workers of a small machine, few enough to scan.
  static constexpr uint32_t kShards = 16;
  static constexpr uint32_t kTaken = ~uint32_t{0};  // live_shard after take_all

  struct alignas(64) Shard {
    mutable std::mutex mu;
    TaskHeader* head = nullptr;  // guarded by mu
    uint64_t inserted = 0;       // guarded by mu
    size_t live = 0;             // guarded by mu: the length of the list
  };
  Shard shards_[kShards];
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_LIVE_TASKS_H_
