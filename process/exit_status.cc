#include "process/exit_status.h"

#include <string.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"

namespace weft {

std::optional<int> ExitStatus::code() const noexcept {
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  return std::nullopt;
}

std::optional<int> ExitStatus::signal() const noexcept {
  if (WIFSIGNALED(status_)) return WTERMSIG(status_);
  return std::nullopt;
}

bool ExitStatus::core_dumped() const noexcept { return WIFSIGNALED(status_) && WCOREDUMP(status_); }

std::string ExitStatus::ToString() const {
  if (auto c = code()) return absl::StrCat("exit code ", *c);
  if (auto s = signal()) {
    const char* name = sigabbrev_np(*s);
    return absl::StrCat("signal ", *s, name ? absl::StrCat(" (SIG", name, ")") : "",
                        core_dumped() ? ", core dumped" : "");
  }
  return absl::StrCat("wait status ", status_);
}

}  // namespace weft
