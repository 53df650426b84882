// weft::Command / weft::Child (process/): exit codes and signals, env and
// cwd, large piped round trips without deadlock, output() with both pipes
// full, spawn errors, kill, kill_on_drop, and the SIGCHLD fallback.
// (Reaping of dropped children: tests/process_reap_test.cc, its own binary.)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "weft.h"

namespace {

using weft::Command;
using weft::Stdio;

// Bounds for what must happen; only a stall exceeds them.
constexpr auto kPatience = std::chrono::seconds(30);

absl::StatusOr<weft::ExitStatus> run_status(Command cmd) {
  return weft::block_on(cmd.status());
}

absl::StatusOr<weft::Output> run_output(Command cmd) { return weft::block_on(cmd.output()); }

Command sh(const std::string& script) { return std::move(Command("/bin/sh").arg("-c").arg(script)); }

// Waits (bounded) until `pid` no longer exists: reaped, not a zombie.
bool gone_within_patience(pid_t pid) {
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < until) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling an outside process
  }
  return false;
}

std::string payload(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

weft::Task<absl::Status> feed(weft::ChildStdin in, const std::string* data) {
  absl::Status st = co_await weft::write_all(in, std::string_view(*data));
  in.close();
  co_return st;
}

weft::Task<absl::StatusOr<std::string>> drain(weft::ChildStdout* out) {
  co_return co_await weft::read_to_string(*out);
}

weft::Task<absl::StatusOr<std::string>> round_trip(weft::Child* child, const std::string* data) {
  auto [fed, got] = co_await weft::when_all(feed(child->take_stdin(), data), drain(&child->stdout()));
  if (!fed.ok()) co_return fed;
  co_return got;
}

}  // namespace

static_assert(weft::AsyncWrite<weft::ChildStdin>);
static_assert(weft::AsyncRead<weft::ChildStdout>);

TEST_CASE("exit codes") {
  for (int code : {0, 1, 3, 255}) {
    auto st = run_status(sh("exit " + std::to_string(code)));
    REQUIRE(st.ok());
    CHECK(st->code() == code);
    CHECK_FALSE(st->signal().has_value());
    CHECK(st->success() == (code == 0));
  }
}

TEST_CASE("a child killed by a signal reports the signal") {
  auto st = run_status(sh("kill -TERM $$; sleep 100"));
  REQUIRE(st.ok());
  CHECK(st->signal() == SIGTERM);
  CHECK_FALSE(st->code().has_value());
  CHECK(st->ToString() == "signal 15 (SIGTERM)");
}

TEST_CASE("env set, removed and cleared; current_dir") {
  ::setenv("WEFT_PROCESS_TEST_REMOVED", "still here", 1);
  auto out = run_output(sh("echo \"$WEFT_A:${WEFT_PROCESS_TEST_REMOVED-unset}:$(pwd)\"")
                            .env("WEFT_A", "one")
                            .env_remove("WEFT_PROCESS_TEST_REMOVED")
                            .current_dir("/"));
  REQUIRE(out.ok());
  CHECK(out->status.success());
  CHECK(out->stdout == "one:unset:/\n");

  auto cleared = run_output(Command("/usr/bin/env").env_clear().env("ONLY", "this"));
  REQUIRE(cleared.ok());
  CHECK(cleared->stdout == "ONLY=this\n");

  // The inherited environment reaches the child untouched.
  auto inherited = run_output(sh("echo \"$WEFT_PROCESS_TEST_REMOVED\""));
  REQUIRE(inherited.ok());
  CHECK(inherited->stdout == "still here\n");
}

TEST_CASE("a program is looked up in the child's PATH when the Command sets it") {
  auto ok = run_output(Command("sh").env("PATH", "/nonexistent:/bin").arg("-c").arg("echo found"));
  REQUIRE(ok.ok());
  CHECK(ok->stdout == "found\n");
  auto missing = Command("sh").env("PATH", "/nonexistent").spawn();
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("several MiB through cat: stdin and stdout at once, no deadlock") {
  const std::string data = payload(8 << 20);
  auto child = Command("cat").stdin(Stdio::kPiped).stdout(Stdio::kPiped).spawn();
  REQUIRE(child.ok());
  auto got = weft::block_on(round_trip(&*child, &data));
  REQUIRE(got.ok());
  CHECK(got->size() == data.size());
  CHECK(*got == data);
  auto st = weft::block_on(child->wait());
  REQUIRE(st.ok());
  CHECK(st->success());
}

TEST_CASE("output() collects stdout and stderr while the child fills both") {
  // The child fills stderr first: a parent that read stdout to its end
  // before stderr would deadlock with it.
  auto out = run_output(sh("head -c 3000000 /dev/zero >&2; head -c 2000000 /dev/zero; "
                           "head -c 1000000 /dev/zero >&2; exit 4"));
  REQUIRE(out.ok());
  CHECK(out->status.code() == 4);
  CHECK(out->stdout.size() == 2000000);
  CHECK(out->stderr.size() == 4000000);
}

TEST_CASE("spawn errors: NotFound, PermissionDenied, InvalidArgument; no child exits 127") {
  auto abs_missing = Command("/nonexistent/weft-no-such-program").spawn();
  CHECK(abs_missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(abs_missing.status().message().find("weft-no-such-program") != std::string::npos);
  auto path_missing = Command("weft-no-such-program-in-path").spawn();
  CHECK(path_missing.status().code() == absl::StatusCode::kNotFound);
  auto not_exec = Command("/etc/passwd").spawn();
  CHECK(not_exec.status().code() == absl::StatusCode::kPermissionDenied);
  auto bad_dir = Command("/bin/true").current_dir("/nonexistent-weft-dir").spawn();
  CHECK(bad_dir.status().code() == absl::StatusCode::kNotFound);
  CHECK(bad_dir.status().message().find("nonexistent-weft-dir") != std::string::npos);
  CHECK(Command("/bin/echo").arg(std::string("a\0b", 3)).spawn().status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Command("/bin/true").env("A=B", "x").spawn().status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Command("").spawn().status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("streams that were not piped give FailedPrecondition") {
  auto child = Command("/bin/true").spawn();
  REQUIRE(child.ok());
  std::string buf;
  auto r = weft::block_on(weft::read_to_end(child->stdout(), buf));
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  auto w = weft::block_on(weft::write_all(child->stdin(), std::string_view("x")));
  CHECK(w.code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(weft::block_on(child->wait()).ok());
}

TEST_CASE("kill() ends the child with SIGKILL; wait() again gives the same status") {
  auto child = Command("sleep").arg("1000").spawn();
  REQUIRE(child.ok());
  CHECK_FALSE(child->try_wait()->has_value());
  REQUIRE(child->kill().ok());
  auto st = weft::block_on(child->wait());
  REQUIRE(st.ok());
  CHECK(st->signal() == SIGKILL);
  auto again = weft::block_on(child->wait());
  REQUIRE(again.ok());
  CHECK(*again == *st);
  CHECK(child->kill().ok());  // reaped: nothing to do
}

TEST_CASE("kill_on_drop kills; without it the child keeps running") {
  pid_t killed = -1;
  {
    auto child = Command("sleep").arg("1000").kill_on_drop(true).spawn();
    REQUIRE(child.ok());
    killed = child->id();
  }
  CHECK(gone_within_patience(killed));

  // Without kill_on_drop: the child outlives its Child and finishes on its
  // own (dropping the Child closes its stdin, so `read` ends); the reaper
  // then reaps it.
  pid_t survivor = -1;
  {
    auto child = sh("read line; exit 0").stdin(Stdio::kPiped).spawn();
    REQUIRE(child.ok());
    survivor = child->id();
  }
  CHECK(gone_within_patience(survivor));
}

TEST_CASE("a write to a child that closed its stdin is an error, not SIGPIPE") {
  auto child = sh("exec 0<&-; exit 0").stdin(Stdio::kPiped).spawn();
  REQUIRE(child.ok());
  weft::ChildStdin in = child->take_stdin();
  auto st = weft::block_on(child->wait());
  REQUIRE(st.ok());
  const std::string big(1 << 20, 'x');
  auto w = weft::block_on(weft::write_all(in, std::string_view(big)));
  CHECK_FALSE(w.ok());
}

TEST_CASE("the child starts with SIGPIPE at its default action") {
  ::signal(SIGPIPE, SIG_IGN);  // as weft's reactor sets it
  auto st = run_status(sh("kill -PIPE $$; exit 0"));
  REQUIRE(st.ok());
  CHECK(st->signal() == SIGPIPE);
}

TEST_CASE("without a pidfd, wait() uses SIGCHLD; many children at once") {
  weft::detail::set_process_pidfd_disabled(true);
  std::vector<weft::Child> children;
  for (int i = 0; i < 8; ++i) {
    auto c = sh("exit " + std::to_string(i + 10)).spawn();
    REQUIRE(c.ok());
    children.push_back(*std::move(c));
  }
  auto slow = Command("sleep").arg("1000").spawn();
  REQUIRE(slow.ok());
  weft::detail::set_process_pidfd_disabled(false);

  weft::Executor ex;
  auto wait_all = [](std::vector<weft::Child>* cs) -> weft::Task<std::vector<int>> {
    std::vector<weft::Task<absl::StatusOr<weft::ExitStatus>>> waits;
    for (auto& c : *cs) waits.push_back(c.wait());
    std::vector<absl::StatusOr<weft::ExitStatus>> sts = co_await weft::when_all(std::move(waits));
    std::vector<int> codes;
    for (auto& s : sts) codes.push_back(s.ok() ? s->code().value_or(-1) : -2);
    co_return codes;
  };
  const std::vector<int> codes = ex.run(wait_all(&children));
  for (int i = 0; i < 8; ++i) CHECK(codes[i] == i + 10);

  // A wait that is suspended when the child is killed.
  const pid_t slow_pid = slow->id();
  std::thread killer([slow_pid] {
    // The kill may land before or after wait() suspends; both must work.
    ::kill(slow_pid, SIGKILL);
  });
  auto st = weft::block_on(slow->wait());
  killer.join();
  REQUIRE(st.ok());
  CHECK(st->signal() == SIGKILL);
}
