#include "executor/task_dump.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace weft {

std::string_view to_string(TaskStatus s) noexcept {
  switch (s) {
    case TaskStatus::kIdle: return "idle";
    case TaskStatus::kScheduled: return "scheduled";
    case TaskStatus::kRunning: return "running";
    case TaskStatus::kFinishing: return "finishing";
  }
  return "?";
}

namespace {
constexpr TaskStatus kAll[] = {TaskStatus::kIdle, TaskStatus::kScheduled, TaskStatus::kRunning,
                               TaskStatus::kFinishing};

}  // namespace

std::string TaskDump::to_string(size_t max_groups) const {
  size_t by_status[4] = {};
  // (file, line, function, status) -> count. Locations compare by content:
  // the same spawn call site may have several copies (inline functions).
  using Key = std::tuple<std::string, uint32_t, std::string, int>;
  std::map<Key, size_t> groups;
  for (const TaskInfo& t : tasks) {
    ++by_status[static_cast<int>(t.status)];
    const char* file = t.spawned_at.file_name() ? t.spawned_at.file_name() : "";
    const char* fn = t.spawned_at.function_name() ? t.spawned_at.function_name() : "";
    ++groups[Key(file, t.spawned_at.line(), fn, static_cast<int>(t.status))];
  }
  std::string out = std::to_string(tasks.size()) + (tasks.size() == 1 ? " live task" : " live tasks");
  const char* sep = ": ";
  for (TaskStatus s : kAll) {
    if (by_status[static_cast<int>(s)] == 0) continue;
    out += sep;
    out += std::to_string(by_status[static_cast<int>(s)]);
    out += ' ';
    out += weft::to_string(s);
    sep = ", ";
  }
  out += '\n';
  std::vector<std::pair<size_t, const Key*>> order;
  order.reserve(groups.size());
  for (const auto& [k, n] : groups) order.emplace_back(n, &k);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  size_t shown = 0, rest = 0;
  for (const auto& [n, k] : order) {
    if (shown == max_groups) {
      rest += n;
      continue;
    }
    ++shown;
    const auto& [file, line, fn, status] = *k;
    std::string where;
    if (file.empty()) {
      where = "an unrecorded place";
    } else {
      where = file + ':' + std::to_string(line);
      if (!fn.empty()) where += " (" + fn + ')';
    }
    out += "  " + std::to_string(n) + ' ' + std::string(weft::to_string(static_cast<TaskStatus>(status))) +
           "  spawned at " + where + '\n';
  }
  if (rest > 0) out += "  " + std::to_string(rest) + " more in smaller groups\n";
  return out;
}

}  // namespace weft
