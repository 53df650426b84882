// contention_bench: which of weft's shared structures degrades first as
// threads are added (issue #10, "Scale"; the model is in benches/README.md).
//
// Each workload runs the same loop on T threads at once, for T in
// --threads_list (default 1,2,4,8,16; on a 2-core machine everything past 2
// is oversubscribed, which is where a lock whose holder is preempted shows
// up), and prints one JSON line per (workload, T):
//   {"workload":"injector","threads":4,"ops":400000,"seconds":0.05,
//    "per_op_ns":125.0,"mops_per_s":8.0}
// per_op_ns is wall time over total operations (the inverse of
// throughput): flat from T=2 up means the structure scales as far as the
// cores do; rising means contention costs more than the extra threads add.
//
// Workloads (one operation each):
//   injector     Injector push + pop of a task header (the executor's shared
//                FIFO: spawns from outside, overflow, wakes from other
//                threads).
//   live_tasks   LiveTasks insert + remove (every spawn and every finish).
//   spawn        a worker spawns an empty task that runs and finishes (the
//                whole path: live list, local queue, steals, idle/search);
//                T worker threads on one Executor.
//   wake_idle    a thread outside the executor spawns a task and waits for
//                it while the T workers sleep (Idle's sleeper list, the
//                parker's futex, the injector).
//   timer        Timer::set_after(1 h) + cancel (entry caches, the reactor's
//                insert stack and wheel, cancellation).
//   unblock      unblock(no-op) then wait, from T plain threads (the blocking
//                pool's queue lock, its condition variable, thread wake-ups).
//
// Usage: contention_bench [--threads_list 1,2,4] [--scale K] [workload...]
// --scale multiplies every workload's operation count (default 1).
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "benches/completion.h"
#include "benches/weft_workers.h"
#include "executor/injector.h"
#include "executor/live_tasks.h"
#include "executor/task_header.h"
#include "weft.h"

namespace weft_bench {
namespace {

using Clock = std::chrono::steady_clock;

// Operations per thread for each workload at --scale 1: each (workload, T)
// takes tens of milliseconds on this machine.
constexpr uint64_t kStructureOps = 200'000;  // injector, live_tasks
constexpr uint64_t kSpawnOps = 50'000;       // spawn (per worker)
constexpr uint64_t kWakeOps = 5'000;         // wake_idle (total, one outside thread)
constexpr uint64_t kTimerOps = 50'000;       // timer
constexpr uint64_t kUnblockOps = 5'000;      // unblock

struct Result {
  uint64_t ops;
  double seconds;
};

void print(const char* workload, int threads, Result r) {
  const double per_op_ns = r.seconds * 1e9 / static_cast<double>(r.ops);
  std::printf(
      "{\"workload\":\"%s\",\"threads\":%d,\"ops\":%llu,\"seconds\":%.6f,"
      "\"per_op_ns\":%.1f,\"mops_per_s\":%.3f}\n",
      workload, threads, static_cast<unsigned long long>(r.ops), r.seconds, per_op_ns,
      1e3 / per_op_ns);
  std::fflush(stdout);
}

// Runs body(i) on `threads` threads released together; the time is from the
// release to the last thread's end.
Result run_threads(int threads, uint64_t ops_per_thread, const std::function<void(int)>& body) {
  std::barrier start(threads + 1);
  std::vector<std::thread> ts;
  ts.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (std::thread& t : ts) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  return Result{ops_per_thread * static_cast<uint64_t>(threads), secs};
}

Result injector(int threads, uint64_t ops) {
  weft::detail::Injector q;
  // Each thread holds one header: it pushes it, then pops one (maybe
  // another thread's). The queue then holds one header per thread between
  // its push and its pop, its own included, so a pop never finds it empty.
  std::vector<weft::detail::TaskHeader> headers(threads);
  Result r = run_threads(threads, ops, [&](int i) {
    weft::detail::TaskHeader* mine = &headers[i];
    for (uint64_t n = 0; n < ops; ++n) {
      if (!q.push(mine)) std::abort();
      mine = q.pop();
      if (mine == nullptr) fail("injector", "pop found the queue empty", 0, 1);
    }
  });
  (void)q.close();
  return r;
}

Result live_tasks(int threads, uint64_t ops) {
  weft::detail::LiveTasks live;
  std::vector<weft::detail::TaskHeader> headers(threads);
  Result r = run_threads(threads, ops, [&](int i) {
    for (uint64_t n = 0; n < ops; ++n) {
      live.insert(&headers[i]);
      if (!live.remove(&headers[i])) std::abort();
    }
  });
  if (live.counts().live != 0) fail("live_tasks", "tasks left listed", live.counts().live, 0);
  return r;
}

weft::Task<void> empty_task(Completion* done) {
  done->arrive();
  co_return;
}

weft::Task<void> spawner(weft::Executor* ex, uint64_t n, Completion* done) {
  for (uint64_t i = 0; i < n; ++i) ex->spawn(empty_task(done)).detach();
  co_return;
}

Result spawn(int threads, uint64_t ops) {
  WeftWorkers pool(threads);
  const uint64_t total = ops * static_cast<uint64_t>(threads);
  Completion done(total, "spawn");
  const auto t0 = Clock::now();
  // One spawner per worker (the injector hands them out; steals spread them).
  for (int i = 0; i < threads; ++i) pool.executor().spawn(spawner(&pool.executor(), ops, &done)).detach();
  done.wait();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  return Result{total, secs};
}

weft::Task<int> one() { co_return 1; }

Result wake_idle(int threads, uint64_t ops) {
  WeftWorkers pool(threads);
  const auto t0 = Clock::now();
  uint64_t sum = 0;
  for (uint64_t i = 0; i < ops; ++i) {
    sum += static_cast<uint64_t>(weft::block_on(pool.executor().spawn(one())));
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sum != ops) fail("wake_idle", "results are off", sum, ops);
  return Result{ops, secs};
}

Result timer(int threads, uint64_t ops) {
  return run_threads(threads, ops, [&](int) {
    weft::Timer t;
    for (uint64_t n = 0; n < ops; ++n) {
      t.set_after(std::chrono::hours(1));
      t.cancel();
    }
  });
}

Result unblock(int threads, uint64_t ops) {
  std::atomic<uint64_t> ran{0};
  Result r = run_threads(threads, ops, [&](int) {
    for (uint64_t n = 0; n < ops; ++n) {
      // relaxed: counted; the total is read after the threads are joined.
      weft::unblock([&ran] { ran.fetch_add(1, std::memory_order_relaxed); }).wait();
    }
  });
  // relaxed: every job finished before its wait() returned, and the
  // threads that waited are joined.
  const uint64_t got = ran.load(std::memory_order_relaxed);
  if (got != r.ops) fail("unblock", "jobs ran", got, r.ops);
  return r;
}

struct Workload {
  const char* name;
  Result (*fn)(int, uint64_t);
  uint64_t ops;
};

constexpr Workload kWorkloads[] = {
    {"injector", injector, kStructureOps}, {"live_tasks", live_tasks, kStructureOps},
    {"spawn", spawn, kSpawnOps},           {"wake_idle", wake_idle, kWakeOps},
    {"timer", timer, kTimerOps},           {"unblock", unblock, kUnblockOps},
};

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p;) {
    char* end = nullptr;
    long v = std::strtol(p, &end, 10);
    if (end == p || v < 1 || v > 1024) {
      std::fprintf(stderr, "contention_bench: bad --threads_list %s\n", s);
      std::exit(2);
    }
    out.push_back(static_cast<int>(v));
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

int main_impl(int argc, char** argv) {
  std::vector<int> threads_list = {1, 2, 4, 8, 16};
  uint64_t scale = 1;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads_list") == 0 && i + 1 < argc) {
      threads_list = parse_list(argv[++i]);
    } else if (std::strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      scale = std::strtoull(argv[++i], nullptr, 10);
      if (scale == 0) scale = 1;
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "usage: %s [--threads_list 1,2,4] [--scale K] [workload...]\n",
                   argv[0]);
      return 2;
    } else {
      wanted.emplace_back(argv[i]);
    }
  }
  for (const std::string& w : wanted) {
    bool known = false;
    for (const Workload& k : kWorkloads) known = known || w == k.name;
    if (!known) {
      std::fprintf(stderr, "contention_bench: unknown workload %s\n", w.c_str());
      return 2;
    }
  }
  for (const Workload& w : kWorkloads) {
    bool run = wanted.empty();
    for (const std::string& name : wanted) run = run || name == w.name;
    if (!run) continue;
    for (int t : threads_list) {
      (void)w.fn(t, w.ops * scale / 10 + 1);  // warm-up: heap, thread stacks
      print(w.name, t, w.fn(t, w.ops * scale));
    }
  }
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
