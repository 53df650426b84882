// TaskDump: every live task of an executor, what state it is in and where
// it was spawned, read from any thread while the executor runs.
//
// What it is for: "why does my program hang?" A task that never finishes
// is usually idle (suspended, waiting for a wake that does not come);
// the dump says how many tasks are idle and which spawn call made them,
// grouped, so a leak of ten thousand connection tasks is one line.
//
// Cost: nothing on the hot path but one store per spawn (the location,
// captured by spawn's default argument; the TaskHeader stays 96 bytes).
// dump() locks each shard of the executor's live-task list in turn while
// it copies it, so spawns and completions on that shard wait for the copy.
//
// Guarantees: every task spawned on the executor and not yet finished
// when dump() starts, and still not finished when dump() reaches its
// shard, is listed once. The state of each is the one seen at that moment
// (a running task may have moved on by the time the dump is printed).
//
// Example:
//   weft::TaskDump d = ex.dump();
//   std::cerr << d.to_string();
//   // 3 live tasks: 2 idle, 1 running
//   //   2 idle  spawned at server.cc:41 (serve)
//   //   1 running  spawned at server.cc:12 (main)
#ifndef WEFT_EXECUTOR_TASK_DUMP_H_
#define WEFT_EXECUTOR_TASK_DUMP_H_

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

enum class TaskStatus {
  kIdle,       // suspended, waiting for a wake
  kScheduled,  // woken, in a run queue
  kRunning,    // a thread is resuming it now (maybe woken again meanwhile)
  kFinishing,  // completed or cancelled; its executor is letting go of it
};
std::string_view to_string(TaskStatus s) noexcept;

struct TaskInfo {
  uint64_t id = 0;          // the task's address: unique while it lives
  TaskStatus status = TaskStatus::kIdle;
  uint64_t runs = 0;        // times a thread started resuming it
  bool joined = false;      // a JoinHandle still wants its result
  std::source_location spawned_at;  // file_name() is "" if not recorded
};

struct TaskDump {
  std::vector<TaskInfo> tasks;

  // One line of totals, then one line per (spawn site, status), the
  // biggest groups first, at most `max_groups` of them (the rest counted
  // in a last line).
  std::string to_string(size_t max_groups = 50) const;
};

}  // namespace weft

#endif  // WEFT_EXECUTOR_TASK_DUMP_H_
