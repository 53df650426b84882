// The task threads' poll counters (metrics_counters.h) and
// weft::reactor_metrics().
#include "reactor/metrics.h"

#include <mutex>
#include <vector>

#include "reactor/metrics_counters.h"
#include "reactor/reactor.h"
#include "reactor/reactor_internal.h"

namespace weft {
namespace detail {
namespace {

// The blocks of live task threads, and what exited threads counted.
// Leaked: threads may exit after static destructors have run.
struct PollRegistry {
  std::mutex mu;
  std::vector<const PollCounters*> live;  // guarded by mu
  PollTotals exited;                      // guarded by mu
};

PollRegistry& registry() {
  static PollRegistry* r = new PollRegistry();
  return *r;
}

void add(PollTotals& t, const PollCounters& c) {
  t.polls += count_of(c.polls);
  t.events += count_of(c.events);
  t.wakes += count_of(c.wakes);
}

// The calling thread's block once registered: the fast path is one load of
// a constinit thread_local (no initialisation guard).
constinit thread_local PollCounters* t_counters = nullptr;
// Where polls made after the thread's block retired (from thread-exit
// destructors) are counted: nowhere anybody reads. Trivially destructible,
// so it stays usable to the thread's very end.
constinit thread_local PollCounters t_late;

// Owns the thread's block from its first poll. Its destructor (at thread
// exit) moves the counts to `exited` under the lock a reader sums under,
// so a sum never goes back.
struct ThreadPollCounters {
  PollCounters counters;
  ThreadPollCounters() {
    PollRegistry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.live.push_back(&counters);
  }
  ~ThreadPollCounters() {
    {
      PollRegistry& r = registry();
      std::lock_guard<std::mutex> lock(r.mu);
      add(r.exited, counters);
      std::erase(r.live, &counters);
    }
    t_counters = &t_late;
  }
};

PollCounters& register_this_thread() noexcept {
  thread_local ThreadPollCounters mine;
  t_counters = &mine.counters;
  return mine.counters;
}

}  // namespace

PollCounters& task_poll_counters() noexcept {
  if (PollCounters* c = t_counters) return *c;
  return register_this_thread();
}

PollTotals task_poll_totals() noexcept {
  PollRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  PollTotals t = r.exited;
  for (const PollCounters* c : r.live) add(t, *c);
  return t;
}

}  // namespace detail

ReactorMetrics reactor_metrics() {
  detail::Reactor* r = detail::reactor_for_hooks();
  return r ? r->metrics() : ReactorMetrics{};
}

}  // namespace weft
