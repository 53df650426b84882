#include "executor/local_executor.h"

#include "base/intrusive_fifo.h"

#include "executor/parker.h"
#include "executor/scheduler_core.h"
#include "executor/task_threads.h"
#include "executor/thread_context.h"
#include "executor/watchdog.h"
#include "executor/worker_counters.h"

namespace weft {
namespace detail {

// Same fairness rule as Executor: look at the cross-thread queue first every
// 61 ticks, so remote wakes are not starved by a busy local queue.
inline constexpr uint32_t kLocalRemoteInterval = 61;

class LocalCore final : public SchedulerCore, public Watched {
 public:
  explicit LocalCore(LocalExecutorOptions options) : budget_(options.budget) { watch(this); }

  void schedule(TaskHeader* t) noexcept override {
    if (current_local_core() == this) {
      push_local(t);
    } else {
      push_remote(t);
    }
  }

  void submit(TaskHeader* t) noexcept {
    adopt(t);
    push_local(t);  // spawn happens on the owner thread
  }

  // From any thread. The caller keeps the executor alive, so the injector
  // is open (as in Executor's spawn from outside): no reference is taken
  // for the push.
  void submit_remote(TaskHeader* t) noexcept {
    adopt(t);
    static_cast<void>(injector_.push(t));
    notify_remote();
  }

  Parker* parker() noexcept { return &parker_; }

  void work_until(RootBase& root) noexcept {
    CoopLimitScope budget(budget_);
    TaskThreadScope awake;
    LocalCoreScope current(this);  // restored first, as the scopes nest
    counters_.enter();
    for (;;) {
      if (root.poll()) break;
      if (tick()) continue;
      if (root.ready()) continue;
      if (poll_io_before_park() > 0) continue;
      // A remote push or a root wake after our checks leaves a permit, so
      // this cannot miss one.
      if (injector_.is_empty()) counters_.park([this] { park_task_thread(parker_); });
    }
    counters_.leave();
  }

  ExecutorMetrics metrics() const {
    ExecutorMetrics m;
    WorkerMetrics w = counters_.snapshot(WorkerCounters::now_ns());
    // relaxed: a snapshot for statistics (see local_len_).
    w.queue_depth = local_len_.load(std::memory_order_relaxed);
    m.workers.push_back(w);
    m.threads = w.active ? 1 : 0;
    const LiveTasks::Counts live = live_.counts();
    m.spawned = live.inserted;
    m.live_tasks = live.live;
    m.injector_depth = injector_.len();
    m.sleeping = counters_.parked_since_ns.load(std::memory_order_relaxed) != 0 ? 1 : 0;
    return m;
  }

  bool try_tick() noexcept {
    CoopLimitScope budget(budget_);
    LocalCoreScope current(this);
    return tick();
  }

  void destroy() noexcept {
    unwatch(this);  // returns once no watchdog tick is looking at us
    TaskHeader* queued = queue_.take_all();
    shut_down(queued);
    release();
  }

 private:
  ~LocalCore() override = default;

  void notify_remote() noexcept override { parker_.unpark(); }

  void push_local(TaskHeader* t) noexcept {
    queue_.push_back(t);
    // relaxed: statistics only (see local_len_).
    local_len_.store(local_len_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  TaskHeader* pop_local() noexcept {
    TaskHeader* t = queue_.pop_front();
    if (t) {
      // relaxed: statistics only (see local_len_).
      local_len_.store(local_len_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }
    return t;
  }
  void drain_remote() noexcept {
    size_t n = 0;
    TaskHeader* chain = injector_.pop_batch(~size_t{0}, &n);
    while (chain) {
      TaskHeader* t = chain;
      chain = t->next;
      push_local(t);
    }
  }

  // The watchdog (driver thread): tasks woken from other threads wait in
  // the injector while this thread runs a long series of local tasks; make
  // the next tick take them instead of waiting for kLocalRemoteInterval.
  void on_watchdog_tick() noexcept override {
    // relaxed: a hint; the injector's lock orders the tasks themselves.
    if (!injector_.is_empty()) remote_due_.store(true, std::memory_order_relaxed);
  }

  bool tick() noexcept {
    // relaxed: see on_watchdog_tick.
    if (++ticks_ % kLocalRemoteInterval == 0 || queue_.empty() ||
        remote_due_.load(std::memory_order_relaxed)) {
      if (remote_due_.load(std::memory_order_relaxed)) {
        remote_due_.store(false, std::memory_order_relaxed);
      }
      drain_remote();
    }
    TaskHeader* t = pop_local();
    if (!t) return false;
    WorkerCounters::add(counters_.polls);
    if (run_task(t) == RunResult::kReschedule) push_local(t);
    return true;
  }

  Parker parker_;
  const uint32_t budget_;  // LocalExecutorOptions::budget
  // Owner thread only.
  IntrusiveFifo<TaskHeader, &TaskHeader::next> queue_;
  uint32_t ticks_ = 0;
  // Set by the watchdog, cleared by the owner when it drains the injector.
  std::atomic<bool> remote_due_{false};
  // Statistics (metrics()): written by the owner (a relaxed load and store),
  // read relaxed by any thread; no protocol reads them.
  WorkerCounters counters_;
  std::atomic<uint32_t> local_len_{0};  // the length of queue_
};

}  // namespace detail

LocalExecutor::LocalExecutor(LocalExecutorOptions options)
    : core_(new detail::LocalCore(options)) {}
LocalExecutor::~LocalExecutor() { core_->destroy(); }
detail::Scheduler* LocalExecutor::scheduler() noexcept { return core_; }
detail::Parker* LocalExecutor::parker() noexcept { return core_->parker(); }
void LocalExecutor::submit(detail::TaskHeader* h) noexcept { core_->submit(h); }
void LocalExecutor::submit_remote(detail::TaskHeader* h) noexcept { core_->submit_remote(h); }
void LocalExecutor::work_until(detail::RootBase& root) noexcept { core_->work_until(root); }
bool LocalExecutor::try_tick() { return core_->try_tick(); }
ExecutorMetrics LocalExecutor::metrics() const { return core_->metrics(); }

TaskDump LocalExecutor::dump() const { return core_->dump(); }

}  // namespace weft
