// ExitStatus: how a child process ended (an exit code, or a signal).
//
// What it is for: the result of Child::wait() and Command::status(), read
// without the <sys/wait.h> macros: `st.success()`, `st.code()`,
// `st.signal()`.
//
// Guarantees: exactly one of code() and signal() has a value (a process
// weft reaps has either exited or been killed; stops are not reported).
//
// Example:
//   weft::ExitStatus st = *co_await child.wait();
//   if (auto sig = st.signal()) std::printf("killed by %d\n", *sig);
//   return st.code().value_or(128 + st.signal().value_or(0));
#ifndef WEFT_PROCESS_EXIT_STATUS_H_
#define WEFT_PROCESS_EXIT_STATUS_H_

#include <optional>
#include <string>

namespace weft {

class ExitStatus {
 public:
  // From a waitpid(2) status word.
  static ExitStatus from_wait_status(int status) noexcept { return ExitStatus(status); }

  // Exited with code 0.
  bool success() const noexcept { return code() == 0; }
  // The exit code (0..255), when the process exited.
  std::optional<int> code() const noexcept;
  // The signal that terminated the process, when one did.
  std::optional<int> signal() const noexcept;
  bool core_dumped() const noexcept;
  // The waitpid(2) status word.
  int raw() const noexcept { return status_; }
  // "exit code 3", "signal 9 (SIGKILL)".
  std::string ToString() const;

  friend bool operator==(const ExitStatus& a, const ExitStatus& b) noexcept {
    return a.status_ == b.status_;
  }

 private:
  explicit ExitStatus(int status) noexcept : status_(status) {}
  int status_;
};

}  // namespace weft

#endif  // WEFT_PROCESS_EXIT_STATUS_H_
