#include "base/affinity.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace weft {

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  // A mask wider than CPU_SETSIZE (over 1024 CPUs) fails with EINVAL: the
  // thread may then run anywhere, so say "CPU 0 upwards" rather than nothing.
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

absl::Status pin_current_thread(std::span<const int> cpus) {
  if (cpus.empty()) {
    return absl::InvalidArgumentError("weft: pin_current_thread needs at least one CPU");
  }
  const std::vector<int> allowed = allowed_cpus();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (c < 0 || c >= CPU_SETSIZE || !std::binary_search(allowed.begin(), allowed.end(), c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: CPU ", c, " is not one this process may run on (allowed: ", allowed.front(),
          allowed.size() > 1 ? absl::StrCat("..", allowed.back()) : std::string(), ", ",
          allowed.size(), " CPUs)"));
    }
    CPU_SET(c, &set);
  }
  // pthread_setaffinity_np returns the error instead of setting errno.
  if (int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set); err != 0) {
    return errno_status(err, "pthread_setaffinity_np");
  }
  return absl::OkStatus();
}

}  // namespace weft
