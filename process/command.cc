#include "process/command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

extern char** environ;

namespace weft {
namespace {

// relaxed: a test switch, set before the spawns it affects on the same thread.
std::atomic<bool> g_pidfd_disabled{false};

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// The child's environment as "NAME=value" strings.
absl::StatusOr<std::vector<std::string>> child_env(
    bool clear, const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  std::map<std::string, std::string> env;
  if (!clear) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string_view kv(*e);
      const size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  for (const auto& [name, value] : changes) {
    if (name.empty() || name.find('=') != std::string::npos || has_nul(name) ||
        (value && has_nul(*value))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: Command: bad environment variable name or value: \"", name, "\""));
    }
    if (value) {
      env[name] = *value;
    } else {
      env.erase(name);
    }
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(absl::StrCat(k, "=", v));
  return out;
}

// The program's path in `path` (a PATH value), as execvp would find it.
absl::StatusOr<std::string> find_in_path(const std::string& program, const std::string& path) {
  size_t start = 0;
  for (;;) {
    const size_t colon = path.find(':', start);
    const std::string dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return absl::NotFoundError(
      absl::StrCat("weft: spawn \"", program, "\": not found in the child's PATH"));
}

// A pipe for one standard stream: the child's end and the parent's end.
struct StdioPipe {
  OwnedFd child_end;
  OwnedFd parent_end;
};

absl::StatusOr<StdioPipe> make_pipe(bool child_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_status(errno, "spawn: pipe2");
  StdioPipe p;
  p.child_end.reset(child_reads ? fds[0] : fds[1]);
  p.parent_end.reset(child_reads ? fds[1] : fds[0]);
  return p;
}

// posix_spawn's two structures, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

namespace detail {
void set_process_pidfd_disabled(bool disabled) noexcept {
  g_pidfd_disabled.store(disabled, std::memory_order_relaxed);  // see g_pidfd_disabled
}
}  // namespace detail

absl::StatusOr<Child> Command::spawn() const {
  if (program_.empty() || has_nul(program_)) {
    return absl::InvalidArgumentError("weft: Command: empty program name, or one holding NUL");
  }
  for (const std::string& a : args_) {
    if (has_nul(a)) return absl::InvalidArgumentError("weft: Command: an argument holds a NUL byte");
  }
  if (cwd_ && has_nul(*cwd_)) {
    return absl::InvalidArgumentError("weft: Command: the directory holds a NUL byte");
  }

  // The program's path: a PATH search in the child's PATH when it differs.
  std::string path = program_;
  const bool path_changed =
      env_clear_ || std::any_of(env_changes_.begin(), env_changes_.end(),
                                [](const auto& c) { return c.first == "PATH"; });
  bool search = program_.find('/') == std::string::npos;
  std::vector<std::string> env_strings;
  const bool own_env = env_clear_ || !env_changes_.empty();
  if (own_env) {
    absl::StatusOr<std::vector<std::string>> env = child_env(env_clear_, env_changes_);
    if (!env.ok()) return env.status();
    env_strings = *std::move(env);
  }
  if (search && path_changed) {
    std::string child_path = "/bin:/usr/bin";  // execvp's default when PATH is unset
    for (const std::string& kv : env_strings) {
      if (kv.rfind("PATH=", 0) == 0) child_path = kv.substr(5);
    }
    absl::StatusOr<std::string> found = find_in_path(program_, child_path);
    if (!found.ok()) return found.status();
    path = *std::move(found);
    search = false;
  }

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program_.c_str()));
  for (const std::string& a : args_) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (own_env) {
    for (std::string& kv : env_strings) envp.push_back(kv.data());
    envp.push_back(nullptr);
  }

  SpawnSetup setup;
  // The child's streams. Pipes are CLOEXEC; dup2 onto 0/1/2 clears the flag
  // on the copy the child keeps.
  std::optional<StdioPipe> pipes[3];
  const Stdio modes[3] = {stdin_.value_or(Stdio::kInherit), stdout_.value_or(Stdio::kInherit),
                          stderr_.value_or(Stdio::kInherit)};
  for (int fd = 0; fd < 3; ++fd) {
    int err = 0;
    switch (modes[fd]) {
      case Stdio::kInherit:
        break;
      case Stdio::kNull:
        err = posix_spawn_file_actions_addopen(&setup.actions, fd, "/dev/null",
                                               fd == 0 ? O_RDONLY : O_WRONLY, 0);
        break;
      case Stdio::kPiped: {
        absl::StatusOr<StdioPipe> p = make_pipe(/*child_reads=*/fd == 0);
        if (!p.ok()) return p.status();
        pipes[fd] = *std::move(p);
        err = posix_spawn_file_actions_adddup2(&setup.actions, pipes[fd]->child_end.get(), fd);
        break;
      }
    }
    if (err != 0) return errno_status(err, "spawn: posix_spawn_file_actions");
  }
  if (cwd_) {
    if (const int err = posix_spawn_file_actions_addchdir_np(&setup.actions, cwd_->c_str());
        err != 0) {
      return errno_status(err, "spawn: posix_spawn_file_actions_addchdir_np");
    }
  }
  sigset_t empty, pipe_only;
  sigemptyset(&empty);
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &pipe_only);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  char** child_envp = own_env ? envp.data() : environ;
  const int err =
      search ? ::posix_spawnp(&pid, path.c_str(), &setup.actions, &setup.attr, argv.data(), child_envp)
             : ::posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attr, argv.data(), child_envp);
  if (err != 0) {
    std::string what = absl::StrCat("spawn \"", program_, "\"");
    if (cwd_) absl::StrAppend(&what, " in directory \"", *cwd_, "\"");
    return errno_status(err, what);
  }

  // The child runs. From here every failure still hands it to a Child, whose
  // destructor kills and reaps it (so an error leaves no process behind).
  std::optional<Async<OwnedFd>> pidfd;
  if (!g_pidfd_disabled.load(std::memory_order_relaxed)) {  // see g_pidfd_disabled
    // Safe against pid reuse: the child is ours and not reaped yet. A pidfd
    // is always close-on-exec.
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
      absl::StatusOr<Async<OwnedFd>> a = Async<OwnedFd>::create(OwnedFd(fd));
      if (a.ok()) pidfd = *std::move(a);  // else (closed by create's caller): SIGCHLD path
    }
    // ENOSYS (Linux < 5.3) or any other failure: the SIGCHLD path.
  }
  Child child(pid, std::move(pidfd), kill_on_drop_);
  for (int fd = 0; fd < 3; ++fd) {
    if (!pipes[fd]) continue;
    pipes[fd]->child_end.reset();
    absl::StatusOr<Async<OwnedFd>> a = Async<OwnedFd>::create(std::move(pipes[fd]->parent_end));
    if (!a.ok()) {
      child.kill_on_drop_ = true;  // the caller never gets it: kill, then reap
      return a.status();
    }
    if (fd == 0) {
      child.stdin_ = ChildStdin(*std::move(a));
    } else if (fd == 1) {
      child.stdout_ = ChildOutput(*std::move(a));
    } else {
      child.stderr_ = ChildOutput(*std::move(a));
    }
  }
  return child;
}

Task<absl::StatusOr<ExitStatus>> Command::status_of(Command cmd) {
  absl::StatusOr<Child> child = cmd.spawn();
  if (!child.ok()) co_return child.status();
  co_return co_await child->wait();
}

Task<absl::StatusOr<Output>> Command::output_of(Command cmd) {
  if (!cmd.stdin_) cmd.stdin_ = Stdio::kNull;
  if (!cmd.stdout_) cmd.stdout_ = Stdio::kPiped;
  if (!cmd.stderr_) cmd.stderr_ = Stdio::kPiped;
  absl::StatusOr<Child> child = cmd.spawn();
  if (!child.ok()) co_return child.status();
  co_return co_await child->wait_with_output();
}

}  // namespace weft
