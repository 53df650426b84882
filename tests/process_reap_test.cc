// No zombies: children whose Child was destroyed before they were reaped
// (exited already, still running, killed on drop, waited through SIGCHLD)
// are all reaped by weft's reaper. Its own binary, because the final check,
// waitpid(-1) == ECHILD, says this process has no child left at all.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "weft.h"

namespace {

constexpr auto kPatience = std::chrono::seconds(30);  // only a stall exceeds it

weft::Command sh(const std::string& script) {
  return std::move(weft::Command("/bin/sh").arg("-c").arg(script));
}

}  // namespace

TEST_CASE("every dropped child is reaped: none is left, none is a zombie") {
  std::vector<pid_t> pids;
  auto spawn_and_drop = [&](const weft::Command& cmd) {
    auto child = cmd.spawn();
    REQUIRE(child.ok());
    pids.push_back(child->id());
  };
  for (int i = 0; i < 5; ++i) spawn_and_drop(sh("exit 0"));  // may exit before or after the drop
  for (int i = 0; i < 5; ++i) spawn_and_drop(weft::Command("sleep").arg("1000").kill_on_drop(true));
  for (int i = 0; i < 3; ++i) {
    spawn_and_drop(sh("read line; exit 3").stdin(weft::Stdio::kPiped));  // exits on EOF
  }
  weft::detail::set_process_pidfd_disabled(true);
  for (int i = 0; i < 3; ++i) spawn_and_drop(sh("exit 1"));
  weft::detail::set_process_pidfd_disabled(false);
  // An exited child that was waited for is not the reaper's.
  auto waited = sh("exit 0").spawn();
  REQUIRE(waited.ok());
  REQUIRE(weft::block_on(waited->wait()).ok());

  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (weft::detail::process_orphans_pending() != 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the reaper runs on its own thread
  }
  CHECK(weft::detail::process_orphans_pending() == 0);
  for (pid_t pid : pids) {
    INFO("pid " << pid);
    CHECK((::kill(pid, 0) != 0 && errno == ESRCH));  // reaped: not even a zombie
  }
  errno = 0;
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}
