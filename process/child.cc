#include "process/child.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "io/io.h"
#include "process/reaper_internal.h"
#include "signal/signals.h"
#include "sync/when_all.h"

namespace weft {
namespace {

absl::Status not_open(const char* what) {
  return absl::FailedPreconditionError(
      absl::StrCat("weft: child ", what, " is not open (not piped, taken, or closed)"));
}

// Reads one pipe to its end, or nothing when it is not open.
Task<absl::StatusOr<std::string>> collect(ChildOutput* pipe) {
  std::string out;
  if (!pipe->is_open()) co_return out;
  absl::StatusOr<size_t> n = co_await read_to_end(*pipe, out);
  if (!n.ok()) co_return n.status();
  co_return out;
}

}  // namespace

Task<absl::StatusOr<size_t>> ChildStdin::write(std::span<const std::byte> data) {
  if (!pipe_) co_return not_open("stdin");
  co_return co_await pipe_->write(data);
}

Task<absl::StatusOr<size_t>> ChildOutput::read(std::span<std::byte> buf) {
  if (!pipe_) co_return not_open("output");
  co_return co_await pipe_->read(buf);
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      pidfd_(std::exchange(o.pidfd_, std::nullopt)),
      status_(o.status_),
      kill_on_drop_(o.kill_on_drop_),
      stdin_(std::move(o.stdin_)),
      stdout_(std::move(o.stdout_)),
      stderr_(std::move(o.stderr_)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    drop();
    pid_ = std::exchange(o.pid_, -1);
    pidfd_ = std::exchange(o.pidfd_, std::nullopt);
    status_ = o.status_;
    kill_on_drop_ = o.kill_on_drop_;
    stdin_ = std::move(o.stdin_);
    stdout_ = std::move(o.stdout_);
    stderr_ = std::move(o.stderr_);
  }
  return *this;
}

Child::~Child() { drop(); }

void Child::drop() noexcept {
  stdin_.close();
  stdout_.close();
  stderr_.close();
  if (pid_ > 0 && !status_) {
    if (kill_on_drop_) (void)kill();
    pidfd_.reset();
    detail::reap_orphan(pid_);
  }
  pidfd_.reset();
  pid_ = -1;
}

absl::StatusOr<std::optional<ExitStatus>> Child::try_wait() {
  if (status_) return status_;
  if (pid_ <= 0) return absl::FailedPreconditionError("weft: Child::try_wait on a moved-from Child");
  for (;;) {
    int raw = 0;
    const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      status_ = ExitStatus::from_wait_status(raw);
      pidfd_.reset();  // nothing more to wait for
      return status_;
    }
    if (r == 0) return std::nullopt;
    if (errno == EINTR) continue;
    if (errno == ECHILD) {
      return absl::FailedPreconditionError(absl::StrCat(
          "weft: child ", pid_,
          " was reaped by someone else (a waitpid(-1) elsewhere, or SIGCHLD set to SIG_IGN)"));
    }
    return errno_status(errno, absl::StrCat("waitpid(", pid_, ")"));
  }
}

Task<absl::StatusOr<ExitStatus>> Child::wait() {
  stdin_.close();
  if (pidfd_) {
    for (;;) {
      absl::StatusOr<std::optional<ExitStatus>> st = try_wait();
      if (!st.ok()) co_return st.status();
      if (*st) co_return **st;
      // A pidfd is readable once the process has exited (and stays so).
      absl::Status ready = co_await pidfd_->readable();
      if (!ready.ok()) co_return ready;
    }
  }
  // No pidfd: SIGCHLD. Listening starts before the first look, so an exit
  // after that look raises an arrival that next() reports.
  absl::StatusOr<Signals> sigchld = Signals::create({SIGCHLD});
  if (!sigchld.ok()) co_return sigchld.status();
  for (;;) {
    absl::StatusOr<std::optional<ExitStatus>> st = try_wait();
    if (!st.ok()) co_return st.status();
    if (*st) co_return **st;
    co_await sigchld->next();
  }
}

Task<absl::StatusOr<Output>> Child::wait_with_output() {
  stdin_.close();
  auto [out, err] = co_await when_all(collect(&stdout_), collect(&stderr_));
  if (!out.ok()) co_return out.status();
  if (!err.ok()) co_return err.status();
  absl::StatusOr<ExitStatus> st = co_await wait();
  if (!st.ok()) co_return st.status();
  Output o;
  o.status = *st;
  o.stdout = *std::move(out);
  o.stderr = *std::move(err);
  co_return o;
}

absl::Status Child::kill() {
  if (status_) return absl::OkStatus();  // reaped: nothing to signal
  if (pid_ <= 0) return absl::FailedPreconditionError("weft: Child::kill on a moved-from Child");
  if (pidfd_) {
    if (::syscall(SYS_pidfd_send_signal, pidfd_->fd(), SIGKILL, nullptr, 0) == 0) {
      return absl::OkStatus();
    }
    if (errno != ENOSYS) {
      if (errno == ESRCH) return absl::OkStatus();  // exited, not reaped yet
      return errno_status(errno, absl::StrCat("pidfd_send_signal(", pid_, ")"));
    }
  }
  // Without a pidfd the pid is still ours: not reaped, so not recycled.
  if (::kill(pid_, SIGKILL) == 0 || errno == ESRCH) return absl::OkStatus();
  return errno_status(errno, absl::StrCat("kill(", pid_, ")"));
}

namespace detail {
size_t process_orphans_pending() { return orphans_pending(); }
}  // namespace detail

}  // namespace weft
