// Child: a running child process (made by Command::spawn, command.h): its
// pipes as async streams, waiting for it, killing it.
//
// What it is for: talking to a child process from a task: write its stdin,
// read its stdout/stderr with io/'s helpers (read_to_end, BufReader,
// copy...), and `co_await child.wait()` for its exit status.
//
// Requires: a Child is the owner's object (one task at a time calls its
// members), like a socket. To feed stdin and read stdout from two tasks,
// move a pipe out first (take_stdin(), ...).
//
// Guarantees:
//   - stdin() is an AsyncWrite, stdout() / stderr() are AsyncRead
//     (io/concepts.h). A stream that was not piped (or was taken, or closed)
//     gives FailedPrecondition, never undefined behaviour. End of the child's
//     output is a 0-byte read. A write after the child closed its stdin is an
//     EPIPE status (the reactor ignores SIGPIPE).
//   - wait() closes stdin first (so a child reading to EOF can finish, as
//     tokio and Rust's std do), then completes when the child exits: through
//     a pidfd registered with the reactor (Linux >= 5.3), else by listening
//     to SIGCHLD with weft::Signals and calling waitpid(pid, WNOHANG) on each
//     arrival. The status is kept: waiting again returns it at once. wait()
//     is cancellation-safe: a task cancelled while it waits leaves the Child
//     as it was.
//   - kill() sends SIGKILL (through the pidfd when there is one, so the
//     signal cannot reach a recycled pid); OK if the child was already
//     reaped.
//   - No zombies: a Child destroyed before it was reaped is handed to weft's
//     reaper, which reaps it when it exits (on the "weft-signals" thread,
//     woken by SIGCHLD; weft keeps a chaining SIGCHLD handler installed from
//     then on). With kill_on_drop (Command::kill_on_drop), it is sent SIGKILL
//     first. Default: the child keeps running (tokio's default too).
//   - A child reaped by someone else (a waitpid(-1) elsewhere, SIGCHLD set to
//     SIG_IGN) makes wait() return FailedPrecondition, not hang.
//
// Example:
//   auto child = weft::Command("sort").stdin(weft::Stdio::kPiped)
//                    .stdout(weft::Stdio::kPiped).spawn();        // StatusOr
//   co_await weft::write_all(child->stdin(), std::string_view("b\na\n"));
//   child->stdin().close();                                       // EOF
//   auto sorted = co_await weft::read_to_string(child->stdout()); // "a\nb\n"
//   weft::ExitStatus st = *co_await child->wait();
// (tests/process_test.cc.)
#ifndef WEFT_PROCESS_CHILD_H_
#define WEFT_PROCESS_CHILD_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "async_fd/async.h"
#include "async_fd/owned_fd.h"
#include "executor/task.h"
#include "process/exit_status.h"

namespace weft {

// The parent's end of a child's stdin pipe: an AsyncWrite.
class ChildStdin {
 public:
  ChildStdin() noexcept = default;
  explicit ChildStdin(Async<OwnedFd> pipe) : pipe_(std::move(pipe)) {}

  // Bytes accepted (>= 1 for a non-empty span); FailedPrecondition when the
  // pipe is not open.
  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data);
  // Closes the pipe: the child reads end of file. Idempotent.
  void close() noexcept { pipe_.reset(); }
  bool is_open() const noexcept { return pipe_.has_value(); }

 private:
  std::optional<Async<OwnedFd>> pipe_;
};

// The parent's end of a child's stdout or stderr pipe: an AsyncRead.
class ChildOutput {
 public:
  ChildOutput() noexcept = default;
  explicit ChildOutput(Async<OwnedFd> pipe) : pipe_(std::move(pipe)) {}

  // Bytes read, 0 at the end of the child's output; FailedPrecondition when
  // the pipe is not open.
  Task<absl::StatusOr<size_t>> read(std::span<std::byte> buf);
  void close() noexcept { pipe_.reset(); }
  bool is_open() const noexcept { return pipe_.has_value(); }

 private:
  std::optional<Async<OwnedFd>> pipe_;
};
using ChildStdout = ChildOutput;
using ChildStderr = ChildOutput;

// What Command::output() and Child::wait_with_output() collect.
struct Output {
  ExitStatus status = ExitStatus::from_wait_status(0);
  std::string stdout;  // empty unless stdout was piped
  std::string stderr;  // empty unless stderr was piped
};

class Child {
 public:
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Kills (with kill_on_drop) and hands an unreaped child to the reaper.
  ~Child();

  // The child's process id (still the id once reaped).
  pid_t id() const noexcept { return pid_; }

  ChildStdin& stdin() noexcept { return stdin_; }
  ChildStdout& stdout() noexcept { return stdout_; }
  ChildStderr& stderr() noexcept { return stderr_; }
  // Moves a pipe out (to another task); the Child's becomes not open.
  ChildStdin take_stdin() noexcept { return std::exchange(stdin_, ChildStdin()); }
  ChildStdout take_stdout() noexcept { return std::exchange(stdout_, ChildOutput()); }
  ChildStderr take_stderr() noexcept { return std::exchange(stderr_, ChildOutput()); }

  // The exit status, once the child has exited (see above).
  Task<absl::StatusOr<ExitStatus>> wait();
  // Non-blocking: the status if the child has exited, else nullopt.
  absl::StatusOr<std::optional<ExitStatus>> try_wait();
  // Closes stdin, reads stdout and stderr (those piped and not taken) to
  // their end concurrently, so a child that fills both pipes cannot
  // deadlock, then waits. Each is capped like io::read_to_end's default.
  Task<absl::StatusOr<Output>> wait_with_output();
  // SIGKILL; see above.
  absl::Status kill();

 private:
  friend class Command;
  Child(pid_t pid, std::optional<Async<OwnedFd>> pidfd, bool kill_on_drop) noexcept
      : pid_(pid), pidfd_(std::move(pidfd)), kill_on_drop_(kill_on_drop) {}
  void drop() noexcept;

  pid_t pid_ = -1;                       // -1 when moved from
  std::optional<Async<OwnedFd>> pidfd_;  // none: SIGCHLD fallback; reset once reaped
  std::optional<ExitStatus> status_;     // set once reaped
  bool kill_on_drop_ = false;
  ChildStdin stdin_;
  ChildStdout stdout_;
  ChildStderr stderr_;
};

namespace detail {
// For tests: spawn() makes no pidfd, so wait() takes the SIGCHLD path.
void set_process_pidfd_disabled(bool disabled) noexcept;
// For tests: children handed to the reaper and not reaped yet.
size_t process_orphans_pending();
}  // namespace detail

}  // namespace weft

#endif  // WEFT_PROCESS_CHILD_H_
