// Idle-poll hooks: how threads that run tasks take I/O readiness off the
// reactor's thread, so a task woken by I/O runs on the thread that found
// the event, with no thread hop.
//
// What it is for: waking a parked thread costs as much as a whole TCP round
// trip on these machines (BENCH.md, floors). So every thread that runs weft
// tasks (Executor workers, LocalExecutor::run, block_on) polls the reactor
// for I/O without blocking before it would park, and busy workers every
// kIdlePollInterval ticks. The reactor's own thread watches I/O only while
// no such thread is awake to do it: threads report when they wake
// (poller_awake) and when they are about to park (poller_parking).
//
// Trade-off: while some task thread is awake, I/O is found by task threads
// only. A task that computes for long without awaiting delays the I/O its
// own worker would have found; move such work to the blocking pool.
//
// The executor does not depend on the reactor: the reactor installs the
// hooks when it starts. Before that they do nothing.
#ifndef WEFT_EXECUTOR_IDLE_POLL_H_
#define WEFT_EXECUTOR_IDLE_POLL_H_

namespace weft {
namespace detail {

struct IdlePollHooks {
  // Polls for ready events without blocking and wakes their tasks; returns
  // how many events it handled.
  int (*poll)() noexcept;
  // The last awake task thread is about to park: someone else must watch.
  void (*last_parked)() noexcept;
};

// Installed once by the reactor.
void set_idle_poll_hooks(const IdlePollHooks* hooks) noexcept;

int idle_poll() noexcept;
// The calling thread runs tasks and will poll before it parks.
void poller_awake() noexcept;
// The calling thread is about to park (or stops running tasks).
void poller_parking() noexcept;
// How many task threads are awake now.
int awake_pollers() noexcept;

// Marks the calling thread as an awake task thread for its lifetime.
class PollerScope {
 public:
  PollerScope() noexcept { poller_awake(); }
  ~PollerScope() { poller_parking(); }
  PollerScope(const PollerScope&) = delete;
  PollerScope& operator=(const PollerScope&) = delete;
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_EXECUTOR_IDLE_POLL_H_
