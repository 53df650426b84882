// Command: builds and starts a child process (async-process, tokio::process).
//
// What it is for: running a program from a task, with its arguments,
// environment, working directory and standard streams chosen, then talking
// to it through a Child (child.h) or collecting everything with output().
//
// Requires: Linux with glibc >= 2.29 (posix_spawn_file_actions_addchdir_np).
// A Command is a plain value: copy it, spawn it several times.
//
// Guarantees:
//   - Safe in a multithreaded process: the child is started with
//     posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK), no allocation or
//     lock between fork and exec). Every fd weft creates is O_CLOEXEC, so a
//     pipe of one child never leaks into another spawned at the same time.
//   - A program that cannot be executed is an error from spawn(), not a
//     child that exits 127: NotFound for a missing program (or cwd),
//     PermissionDenied for one that is not executable, with the program's
//     name in the message. A program name without '/' is looked up in PATH:
//     the child's PATH when env() / env_remove() / env_clear() changed it
//     (as Rust's std does), else this process's.
//   - Arguments, environment names and values holding a NUL byte, and
//     environment names holding '=' or empty, are InvalidArgument.
//   - The child starts with an empty signal mask and SIGPIPE at its default
//     action (weft's reactor ignores SIGPIPE in this process; a child like
//     `yes | head` expects to die of it). Signals this process handles reset
//     to default by exec; signals it ignores stay ignored (POSIX).
//   - Standard streams: Stdio::kInherit (default for spawn() and status()),
//     kNull (/dev/null), kPiped (an async pipe in the Child). output()
//     defaults stdin to kNull and stdout/stderr to kPiped unless set.
//
// Example:
//   auto out = co_await weft::Command("/bin/sh").arg("-c").arg("echo hi; exit 3")
//                  .output();                             // StatusOr<Output>
//   // out->stdout == "hi\n", out->status.code() == 3
// (tests/process_test.cc; examples/tee.cc.)
#ifndef WEFT_PROCESS_COMMAND_H_
#define WEFT_PROCESS_COMMAND_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "executor/task.h"
#include "process/child.h"
#include "process/exit_status.h"

namespace weft {

enum class Stdio {
  kInherit,  // the child shares this process's stream
  kNull,     // /dev/null
  kPiped,    // a pipe whose other end is Child::stdin() / stdout() / stderr()
};

class Command {
 public:
  explicit Command(std::string program) : program_(std::move(program)) {}

  Command& arg(std::string a) {
    args_.push_back(std::move(a));
    return *this;
  }
  Command& args(std::initializer_list<std::string> as) {
    args_.insert(args_.end(), as.begin(), as.end());
    return *this;
  }
  Command& args(const std::vector<std::string>& as) {
    args_.insert(args_.end(), as.begin(), as.end());
    return *this;
  }
  // Environment changes, applied in order on top of this process's
  // environment (or an empty one after env_clear()).
  Command& env(std::string name, std::string value) {
    env_changes_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Command& env_remove(std::string name) {
    env_changes_.emplace_back(std::move(name), std::nullopt);
    return *this;
  }
  Command& env_clear() {
    env_clear_ = true;
    env_changes_.clear();
    return *this;
  }
  Command& current_dir(std::string dir) {
    cwd_ = std::move(dir);
    return *this;
  }
  Command& stdin(Stdio s) {
    stdin_ = s;
    return *this;
  }
  Command& stdout(Stdio s) {
    stdout_ = s;
    return *this;
  }
  Command& stderr(Stdio s) {
    stderr_ = s;
    return *this;
  }
  // Whether destroying the Child before it was reaped sends it SIGKILL
  // (default false: it keeps running, and is reaped when it exits).
  Command& kill_on_drop(bool on) {
    kill_on_drop_ = on;
    return *this;
  }

  // Starts the child. See above for the errors.
  absl::StatusOr<Child> spawn() const;
  // Starts the child and waits for it; streams inherited unless set. The
  // task holds a copy of the Command: it need not outlive the await.
  Task<absl::StatusOr<ExitStatus>> status() const { return status_of(*this); }
  // Starts the child and collects its stdout and stderr (concurrently) and
  // its exit status. A non-zero exit is not an error: look at status. Holds
  // a copy of the Command, like status().
  Task<absl::StatusOr<Output>> output() const { return output_of(*this); }

  const std::string& program() const noexcept { return program_; }

 private:
  static Task<absl::StatusOr<ExitStatus>> status_of(Command cmd);
  static Task<absl::StatusOr<Output>> output_of(Command cmd);

  std::string program_;
  std::vector<std::string> args_;
  bool env_clear_ = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> env_changes_;
  std::optional<std::string> cwd_;
  std::optional<Stdio> stdin_, stdout_, stderr_;
  bool kill_on_drop_ = false;
};

}  // namespace weft

#endif  // WEFT_PROCESS_COMMAND_H_
