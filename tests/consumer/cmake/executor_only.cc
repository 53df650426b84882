// A program that uses only the executor (no I/O, no timer, not weft.h): the
// reactor's driver thread, the executors' watchdog (executor/watchdog.h),
// must still start. Only reactor/driver.cc's static initialiser starts it and
// nothing here references driver.o, so this fails if weft::weft links the
// static archive without --whole-archive (checked: it does then).
#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "executor/block_on.h"
#include "executor/global.h"
#include "executor/task.h"

namespace {

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

weft::Task<int> answer() { co_return 42; }

weft::Task<int> main_task() { co_return co_await weft::spawn(answer()); }

}  // namespace

int main() {
  const int v = weft::block_on(main_task());
  const bool reactor = has_thread("weft-reactor");
  std::printf("executor_only: spawn %s, reactor thread %s\n", v == 42 ? "ok" : "FAILED",
              reactor ? "runs" : "MISSING (driver.o not linked)");
  return v == 42 && reactor ? 0 : 1;
}
