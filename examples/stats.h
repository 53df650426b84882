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
//   stats reactor: <F> fds, <E> events, <W> driver wake-ups, <B> busy polls,
//     <T> timers pending (<X> fired, <C> cancelled)
//   stats blocking pool: <N> threads (<I> idle), <Q> queued, <J> jobs done
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
  const weft::ReactorMetrics r = weft::reactor_metrics();
  std::printf(
      "stats reactor: %zu fds, %lu events, %lu driver wake-ups, %lu busy polls, "
      "%zu timers pending (%lu fired, %lu cancelled)\n",
      r.registrations, static_cast<unsigned long>(r.io_events),
      static_cast<unsigned long>(r.driver_waits), static_cast<unsigned long>(r.driver_busy_polls),
      r.timers_pending, static_cast<unsigned long>(r.timers_fired),
      static_cast<unsigned long>(r.timers_cancelled));
  const weft::BlockingPoolMetrics b = weft::BlockingPool::global().metrics();
  std::printf("stats blocking pool: %zu threads (%zu idle), %zu queued, %lu jobs done\n",
              b.threads_live, b.threads_idle, b.queue_depth,
              static_cast<unsigned long>(b.jobs_completed));
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
