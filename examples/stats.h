// The example servers' --stats: one line of the runtime's metrics every
// second, on stdout, while the server runs.
//
// What it is for: watching a server under load (is work piling up in the
// queues, are workers stealing, parking?) without a profiler. One printer,
// shared by every example that has --stats (echo_server, http_hello), so a
// new metric shows up in all of them.
//
// Requires: `read` returns the metrics of the executors to sum, as a
// std::vector<weft::ExecutorMetrics> (an Executor's metrics(), or a
// LocalPool's); it is called on whatever thread runs the stats task.
//
// Guarantees: one line per second, starting one second after the task
// starts, flushed at once (stdout may be a pipe):
//   stats <who>: <L> live tasks, <Q> queued, <P> polls, <S> steals, <K> parks
// The counters are sums over every executor and worker, since the start.
// The task runs until it is cancelled (drop or cancel its JoinHandle, or
// detach it and let the executor go).
//
// Example (echo_server.cc):
//   weft::spawn(examples::stats_every_second("global", [] {
//     return std::vector<weft::ExecutorMetrics>{weft::global_executor().metrics()};
//   })).detach();
#ifndef WEFT_EXAMPLES_STATS_H_
#define WEFT_EXAMPLES_STATS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "weft.h"

namespace examples {

// How often --stats prints.
inline constexpr auto kStatsPeriod = std::chrono::seconds(1);

inline void print_stats(const char* who, const std::vector<weft::ExecutorMetrics>& all) {
  uint64_t polls = 0, steals = 0, parks = 0;
  size_t live = 0, queued = 0;
  for (const weft::ExecutorMetrics& m : all) {
    live += m.live_tasks;
    queued += m.injector_depth;
    for (const weft::WorkerMetrics& w : m.workers) {
      polls += w.polls;
      steals += w.steal_operations;
      parks += w.parks;
      queued += w.queue_depth;
    }
  }
  std::printf("stats %s: %zu live tasks, %zu queued, %lu polls, %lu steals, %lu parks\n", who,
              live, queued, static_cast<unsigned long>(polls), static_cast<unsigned long>(steals),
              static_cast<unsigned long>(parks));
  std::fflush(stdout);
}

template <class Read>
weft::Task<void> stats_every_second(const char* who, Read read) {
  for (;;) {
    co_await weft::sleep_for(kStatsPeriod);
    print_stats(who, read());
  }
}

}  // namespace examples

#endif  // WEFT_EXAMPLES_STATS_H_
