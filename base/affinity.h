// CPU affinity for the calling thread, as a Status rather than an errno.
//
// What it is for: pinning threads that run weft tasks (a LocalPool's
// workers, or threads a user recruits into an Executor) to CPUs, so a
// thread-per-core program keeps each core's data in that core's caches.
//
// Guarantees: allowed_cpus() lists the CPUs this process may run on (its
// sched_getaffinity mask, which cgroups and taskset narrow), ascending.
// pin_current_thread() restricts the calling thread to the given CPUs, or
// returns InvalidArgument naming a CPU that is not allowed and changes
// nothing.
//
// Example:
//   auto cpus = weft::allowed_cpus();
//   if (absl::Status s = weft::pin_current_thread({cpus[0]}); !s.ok()) ...
#ifndef WEFT_BASE_AFFINITY_H_
#define WEFT_BASE_AFFINITY_H_

#include <span>
#include <vector>

#include "absl/status/status.h"

namespace weft {

// The CPUs this process may run on, ascending (never empty).
std::vector<int> allowed_cpus();

// Restricts the calling thread to `cpus` (at least one, each allowed).
absl::Status pin_current_thread(std::span<const int> cpus);
inline absl::Status pin_current_thread(std::initializer_list<int> cpus) {
  return pin_current_thread(std::span<const int>(cpus.begin(), cpus.size()));
}

}  // namespace weft

#endif  // WEFT_BASE_AFFINITY_H_
