// A user's program against weft as a dependency: built by the Bazel consumer
// workspace (tests/consumer/WORKSPACE, @weft//:weft) and by the CMake consumer
// (tests/consumer/cmake, find_package(weft)), both with -Wall -Wextra -Werror
// and weft's headers included as a user's own (not system) headers.
//
// It instantiates the templates whose warnings users met (when_all over
// Task<absl::Status> and Task<MutexGuard>), runs tasks on the global executor
// and a channel, and checks that the reactor's driver thread ("weft-reactor",
// the executors' watchdog) runs, though the program does no I/O and sets no
// timer. (cmake/executor_only.cc checks the same without weft.h, whose inline
// code already references the reactor.)
#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "weft.h"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("consumer: %s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

// Whether a thread of this process is named `name` (pthread_setname_np).
bool has_thread(const std::string& name) {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string n;
    if (std::getline(comm, n) && n == name) found = true;
  }
  ::closedir(d);
  return found;
}

weft::Task<absl::Status> status_of(int i) {
  co_return i == 0 ? absl::OkStatus() : absl::InternalError("child failed");
}

weft::Task<weft::MutexGuard> lock(weft::Mutex& m) { co_return co_await m.lock(); }

weft::Task<long> sum_to(long n) {
  long s = 0;
  for (long i = 1; i <= n; ++i) s += i;
  co_return s;
}

weft::Task<int> main_task() {
  // Spawned on the global executor: its creation starts the reactor.
  weft::JoinHandle<long> h = weft::spawn(sum_to(1000));
  check(co_await h == 500500, "spawn and join on the global executor");
  check(has_thread("weft-reactor"), "the reactor's driver thread runs");

  auto [a, b] = co_await weft::when_all(status_of(0), status_of(1));
  check(a.ok() && absl::IsInternal(b), "when_all over Task<absl::Status>");

  weft::Mutex m;
  {
    auto [g] = co_await weft::when_all(lock(m));
    check(!m.try_lock().has_value(), "when_all over Task<MutexGuard> holds the lock");
  }

  weft::Channel<int> ch(4);
  for (int i = 0; i < 3; ++i) {
    weft::SendResult<int> r = co_await ch.send(i);
    check(r.ok(), "channel send");
  }
  absl::StatusOr<int> first = co_await ch.recv();
  check(first.ok() && *first == 0, "channel recv in order");

  co_return failures == 0 ? 0 : 1;
}

}  // namespace

int main() {
  int rc = weft::block_on(main_task());
  std::printf("consumer: %s\n", rc == 0 ? "all passed" : "FAILED");
  return rc;
}
