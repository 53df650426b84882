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

// One per thread that polls; its destructor moves its counts to `exited`
// under the same lock a reader sums under, so a sum never goes back.
struct ThreadPollCounters {
  PollCounters counters;
  ThreadPollCounters() {
    PollRegistry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.live.push_back(&counters);
  }
  ~ThreadPollCounters() {
    PollRegistry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    add(r.exited, counters);
    std::erase(r.live, &counters);
  }
};

}  // namespace

PollCounters& task_poll_counters() noexcept {
  thread_local ThreadPollCounters mine;
  return mine.counters;
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
