// The process exits cleanly while the global blocking pool has idle threads
// and one thread still blocked inside a job: no hang in exit(), no crash in
// static destructors. The test is this binary's exit status (and, under
// the sanitizers, a clean report at exit); a hang fails it by timeout.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <latch>
#include <string>
#include <vector>

#include "weft.h"

// A static with a destructor, destroyed at exit while pool threads exist.
static std::string g_static_text(1000, 'x');
// Set by the job that blocks forever; a global, so the job may still be
// notifying it while main returns.
static std::atomic<bool> g_blocked{false};

int main() {
  int fds[2];
  if (pipe(fds) != 0) return 2;

  // Several threads, all idle by the time main returns.
  std::latch all(4);
  std::vector<weft::BlockingJob<int>> jobs;
  for (int i = 0; i < 4; ++i) {
    jobs.push_back(weft::unblock([&all, i] {
      all.arrive_and_wait();
      return i;
    }));
  }
  int sum = 0;
  for (auto& j : jobs) sum += j.wait();

  // And one that never finishes: blocked in read(2) on a pipe nobody writes.
  weft::unblock([fd = fds[0]] {
    g_blocked.store(true, std::memory_order_release);  // pairs with main's acquire
    g_blocked.notify_all();
    char c;
    return read(fd, &c, 1);
  }).detach();
  while (!g_blocked.load(std::memory_order_acquire)) {
    g_blocked.wait(false, std::memory_order_acquire);
  }

  auto s = weft::BlockingPool::global().stats();
  std::printf("threads alive %zu, idle %zu; exiting\n", s.threads_alive, s.threads_idle);
  return (sum == 6 && s.threads_alive >= 2 && !g_static_text.empty()) ? 0 : 1;
}
