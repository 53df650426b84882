#include "executor/executor.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <mutex>
#include "base/intrusive_fifo.h"
#include "executor/block_on.h"
#include "executor/idle.h"
#include "executor/local_queue.h"
#include "executor/parker.h"
#include "executor/scheduler_core.h"
#include "executor/task_threads.h"
#include "executor/thread_context.h"
#include "executor/watchdog.h"
#include "executor/worker_slot.h"
#include "executor/worker_table.h"

namespace weft {
namespace detail {

// How often a worker looks at the injector before its own queue: often
// enough that outside spawns are not starved by a busy local queue, rarely
// enough that the lock stays off the common path (tokio's 61, a prime).
inline constexpr uint32_t kGlobalQueueInterval = 61;
// How often a busy worker asks the reactor for I/O events (tokio's
// event_interval, also 61): a syscall per 61 tasks keeps I/O responsive
// when no worker is idle, at a cost too small to see.
inline constexpr uint32_t kIdlePollInterval = 61;
// How many times in a row the LIFO slot may run before its task goes to the
// back of the queue, so two tasks that wake each other cannot starve others.
inline constexpr uint32_t kMaxLifoPolls = 3;
// Upper bound on tasks moved from the injector to a local queue at once.
inline constexpr size_t kInjectorBatch = LocalQueue::kCapacity / 2;

// The thread's scheduler context (thread_context.h). Defined here, beside
// its hottest reader (schedule() below, on every wake).
constinit thread_local ThreadContext t_thread_context;

class ExecutorCore final : public SchedulerCore, public Watched {
 public:
  explicit ExecutorCore(ExecutorOptions o) : options_(o), idle_(WorkerTable::kInitialCapacity) { watch(this); }

  void schedule(TaskHeader* t) noexcept override {
    WorkerSlot* w = current_worker_slot();
    if (w && w->core == this) {
      if (options_.lifo_slot) {
        TaskHeader* prev = w->lifo.exchange(t, std::memory_order_acq_rel);
        // Runs next on this worker; nobody to wake. If the running task
        // computes for long instead, the watchdog hands it to an idle worker.
        if (!prev) return;
        t = prev;
      }
      push_local(w, t);
      idle_.notify_one();
      return;
    }
    push_remote(t);
  }

  void submit(TaskHeader* t) noexcept {
    adopt(t);
    WorkerSlot* w = current_worker_slot();
    if (w && w->core == this) {
      schedule(t);
      return;
    }
    // A spawn from outside: the caller holds the Executor, so the core
    // cannot be shut down under us and push_remote's reference (for wakes
    // racing with destruction) is not needed; two contended atomic RMWs less
    // per spawn. The injector is open while the Executor lives.
    injector_.push(t);
    idle_.notify_one();
  }

  WorkerSlot* enter() {
    std::lock_guard<std::mutex> lock(slots_mu_);
    // slots_ is only appended to under slots_mu_, which we hold.
    const WorkerTable::View all = slots_.view();
    WorkerSlot* slot = nullptr;
    for (uint32_t i = 0; i < all.size; ++i) {
      if (!all[i]->in_use) {
        slot = all[i];
        break;
      }
    }
    if (!slot) {
      // More threads inside run() than ever before: a new slot. The table
      // grows as needed (any number of threads may join).
      auto fresh = std::make_unique<WorkerSlot>(this);
      idle_.reserve(all.size + 1);  // parking never allocates
      slots_.append(fresh.get());  // publishes the constructed slot
      slot = fresh.release();
    }
    slot->in_use = true;
    slot->rng ^= reinterpret_cast<uintptr_t>(&slot) | 1;
    slot->counters.enter();
    // relaxed: a count for the search limit and for the destructor's check;
    // it publishes nothing (the slot itself is published above).
    num_workers_.fetch_add(1, std::memory_order_relaxed);
    retain();
    return slot;
  }

  void leave(WorkerSlot* w) noexcept {
    // Hand queued tasks to the injector so other workers (or shutdown) get them.
    IntrusiveFifo<TaskHeader, &TaskHeader::next> rest;
    size_t count = 0;
    auto append = [&rest, &count](TaskHeader* t) {
      rest.push_back(t);
      ++count;
    };
    if (TaskHeader* t = w->lifo.exchange(nullptr, std::memory_order_acq_rel)) append(t);
    LocalQueue::Owner queue = w->owned_queue();  // we are w's thread, leaving
    while (TaskHeader* t = queue.pop()) append(t);
    if (count) injector_.push_batch(rest.front(), rest.back(), count);
    if (w->searching) idle_.end_search(*w);
    w->stalled.store(false, std::memory_order_relaxed);
    w->counters.leave();
    {
      std::lock_guard<std::mutex> lock(slots_mu_);
      w->in_use = false;
    }
    // relaxed: as in enter(); the user joins this thread before destroying
    // the executor, which orders this before destroy()'s check.
    num_workers_.fetch_sub(1, std::memory_order_relaxed);
    if (count) idle_.notify_one();
    release();
  }

  void work_until(WorkerSlot* w, RootBase& root) noexcept {
    TaskThreadScope awake;
    for (;;) {
      if (root.ready()) {
        if (w->searching) idle_.end_search(*w);  // leave searching before any run
        if (root.poll()) return;
      }
      if (TaskHeader* t = next_task(w)) {
        run_one(w, t);
        continue;
      }
      if (root.ready()) continue;
      // Out of work. Stop searching first: tasks our own I/O poll wakes land
      // on this worker and are no reason to wake another (end_search would;
      // measured: a futex wake of the idle worker per tcp_rtt round trip,
      // 4.2 -> 7.1 us).
      const bool last_searcher = w->searching && idle_.give_up_search(*w);
      // Events found now wake their tasks onto this worker.
      if (poll_io_before_park() > 0) {
        // About to run them instead of parking: as the last searcher we may
        // owe a wake-up for work pushed while notify_one counted on us
        // (tokio's last searcher checks the same). Parking re-checks for
        // such work itself (park()).
        if (last_searcher && work_visible()) idle_.notify_one();
        continue;
      }
      park(w, root);
    }
  }

  bool try_tick() noexcept {
    TaskHeader* t = injector_.pop();
    if (!t) {
      const WorkerTable::View all = slots_.view();
      for (uint32_t i = 0; i < all.size && !t; ++i) t = all[i]->stealer().steal_one();
    }
    if (!t) return false;
    WorkerContextGuard guard;  // wakes during the run go to the injector
    if (run_task(t) == RunResult::kReschedule) push_remote(t);
    return true;
  }

  // relaxed: a snapshot (see enter()).
  size_t num_workers() const noexcept { return num_workers_.load(std::memory_order_relaxed); }

  ExecutorMetrics metrics() const {
    ExecutorMetrics m;
    const int64_t now = WorkerCounters::now_ns();
    const WorkerTable::View all = slots_.view();
    m.workers.reserve(all.size);
    for (uint32_t i = 0; i < all.size; ++i) {
      WorkerSlot* s = all[i];
      WorkerMetrics wm = s->counters.snapshot(now);
      // relaxed: a snapshot for statistics.
      wm.queue_depth = std::min<uint32_t>(s->stealer().len(), LocalQueue::kCapacity) +
                       (s->lifo.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
      m.workers.push_back(wm);
    }
    m.threads = num_workers();
    const LiveTasks::Counts live = live_.counts();
    m.spawned = live.inserted;
    m.live_tasks = live.live;
    m.injector_depth = injector_.len();
    m.searching = idle_.num_searching();
    m.sleeping = idle_.num_sleepers();
    return m;
  }

  // The Executor's destructor: see SchedulerCore for the steps.
  void destroy() noexcept {
    if (size_t n = num_workers()) {
      std::fprintf(stderr, "weft: Executor destroyed while %zu thread(s) are inside run()\n", n);
      std::abort();
    }
    unwatch(this);  // returns once no watchdog tick is looking at us
    TaskHeader* queued = nullptr;
    const WorkerTable::View all = slots_.view();
    for (uint32_t i = 0; i < all.size; ++i) {
      // No thread is inside run() (checked above): we are every queue's owner.
      LocalQueue::Owner queue = all[i]->owned_queue();
      while (TaskHeader* t = queue.pop()) {  // empty: leave() drained it
        t->next = queued;
        queued = t;
      }
    }
    shut_down(queued);
    release();
  }

  // The watchdog (driver thread, every check interval): work queued behind
  // a worker that has been running one task since the last look goes to an
  // idle worker; a non-empty injector is looked at by every worker at its
  // next pick, not only every kGlobalQueueInterval picks.
  void on_watchdog_tick() noexcept override {
    bool stranded = false;
    const WorkerTable::View all = slots_.view();
    for (uint32_t i = 0; i < all.size; ++i) {
      WorkerSlot* s = all[i];
      // relaxed: snapshots (see WorkerSlot::tick).
      const uint32_t tick = s->tick.load(std::memory_order_relaxed);
      const bool same_run = tick == s->watchdog_seen_tick;
      s->watchdog_seen_tick = tick;
      if (!same_run) continue;
      const bool lifo = s->lifo.load(std::memory_order_relaxed) != nullptr;
      if (lifo || !s->stealer().is_empty()) {
        if (lifo) s->stalled.store(true, std::memory_order_relaxed);
        stranded = true;
      }
    }
    if (!injector_.is_empty()) {
      // relaxed: a hint; the injector's own lock orders the tasks.
      injector_due_.store(true, std::memory_order_relaxed);
      stranded = true;
    }
    if (stranded) idle_.notify_one();
  }

 private:
  ~ExecutorCore() override {
    // The last release() of the core acquired every holder's writes (see
    // SchedulerCore::release).
    const WorkerTable::View all = slots_.view();
    for (uint32_t i = 0; i < all.size; ++i) delete all[i];
  }

  void notify_remote() noexcept override { idle_.notify_one(); }

  void push_local(WorkerSlot* w, TaskHeader* t) noexcept {
    LocalQueue::Overflow o = w->owned_queue().push_back(t);
    if (o.count) {
      injector_.push_batch(o.first, o.last, o.count);  // open: we are a worker
      WorkerCounters::add(w->counters.overflowed, o.count);
    }
  }

  void run_one(WorkerSlot* w, TaskHeader* t) noexcept {
    // Leave searching before running anything (tokio's run_task does the
    // same): a searcher that stays counted while it runs keeps, by the
    // at-most-half rule, an idle worker from stealing.
    if (w->searching) idle_.end_search(*w);
    WorkerCounters::add(w->counters.polls);
    if (run_task(t) == RunResult::kReschedule) {
      // Woken during its own run (a yield): back of the queue, never LIFO.
      // Alone there, it runs next on this worker and nothing waits behind
      // it: waking a sleeper would only have it find nothing (and wake the
      // I/O watcher for nothing every slice of a computing task).
      const bool alone =
          w->owned_queue().is_empty() && !w->lifo.load(std::memory_order_relaxed);
      push_local(w, t);
      if (!alone) idle_.notify_one();
    }
  }

  TaskHeader* next_task(WorkerSlot* w) noexcept {
    // relaxed: the owner's own counter; see WorkerSlot::tick.
    const uint32_t tick = w->tick.load(std::memory_order_relaxed) + 1;
    w->tick.store(tick, std::memory_order_relaxed);
    if (w->stalled.load(std::memory_order_relaxed)) w->stalled.store(false, std::memory_order_relaxed);
    if (tick % kIdlePollInterval == 0) poll_io_now();
    if (tick % kGlobalQueueInterval == 0) {
      if (TaskHeader* t = injector_.pop()) return t;
    } else if (injector_due_.load(std::memory_order_relaxed)) {
      // relaxed: a hint set by the watchdog (on_watchdog_tick), which sets
      // it again at its next look if the injector still holds tasks.
      injector_due_.store(false, std::memory_order_relaxed);
      if (TaskHeader* t = pop_injector_batch(w)) return t;
    }
    // relaxed load first: the exchange (a locked instruction) only when the
    // slot holds something.
    if (w->lifo.load(std::memory_order_relaxed)) {
      if (TaskHeader* t = w->lifo.exchange(nullptr, std::memory_order_acq_rel)) {
        if (w->lifo_streak < kMaxLifoPolls) {
          ++w->lifo_streak;
          WorkerCounters::add(w->counters.lifo_polls);
          return t;
        }
        push_local(w, t);  // give the others a turn
      }
    }
    w->lifo_streak = 0;
    if (TaskHeader* t = w->owned_queue().pop()) return t;
    if (TaskHeader* t = pop_injector_batch(w)) return t;
    if (!idle_.try_start_search(*w, num_workers())) return nullptr;
    if (TaskHeader* t = steal(w)) return t;
    if (TaskHeader* t = pop_injector_batch(w)) return t;
    return nullptr;
  }

  // Takes a fair share of the injector: one to run now, the rest queued.
  TaskHeader* pop_injector_batch(WorkerSlot* w) noexcept {
    size_t len = injector_.len();
    if (len == 0) return nullptr;
    size_t workers = num_workers() ? num_workers() : 1;
    size_t want = len / workers + 1;
    if (want > kInjectorBatch) want = kInjectorBatch;
    size_t got = 0;
    TaskHeader* chain = injector_.pop_batch(want, &got);
    if (!chain) return nullptr;
    TaskHeader* first = chain;
    chain = chain->next;
    first->next = nullptr;
    while (chain) {
      TaskHeader* t = chain;
      chain = t->next;
      push_local(w, t);  // room: at most half a queue arrives at once
    }
    return first;
  }

  TaskHeader* steal(WorkerSlot* w) noexcept {
    const WorkerTable::View all = slots_.view();
    const uint32_t n = all.size;
    if (n <= 1) return nullptr;
    // xorshift: a cheap per-worker random start, so thieves spread out.
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    uint32_t start = static_cast<uint32_t>(w->rng % n);
    LocalQueue::Owner mine = w->owned_queue();
    const uint32_t had = mine.len();
    for (uint32_t i = 0; i < n; ++i) {
      WorkerSlot* victim = all[(start + i) % n];
      if (victim == w) continue;
      TaskHeader* t = victim->stealer().steal_into(mine);
      if (!t) t = steal_lifo(victim);
      if (t) {
        WorkerCounters::add(w->counters.steal_operations);
        WorkerCounters::add(w->counters.stolen, 1 + mine.len() - had);
        return t;
      }
    }
    return nullptr;
  }

  // The LIFO slot of a worker the watchdog found stuck in one long run.
  static TaskHeader* steal_lifo(WorkerSlot* victim) noexcept {
    // relaxed: hints; the exchange decides (see WorkerSlot::lifo).
    if (!victim->stalled.load(std::memory_order_relaxed)) return nullptr;
    if (!victim->lifo.load(std::memory_order_relaxed)) return nullptr;
    return victim->lifo.exchange(nullptr, std::memory_order_acq_rel);
  }

  void park(WorkerSlot* w, RootBase& root) noexcept {
    idle_.prepare_park(*w);
    if (!work_visible() && !root.ready()) {
      w->counters.park([w] { park_task_thread(w->parker); });
    }
    idle_.unsleep(*w);
  }

  bool work_visible() const noexcept {
    if (!injector_.is_empty()) return true;
    const WorkerTable::View all = slots_.view();
    for (uint32_t i = 0; i < all.size; ++i) {
      WorkerSlot* s = all[i];
      if (!s->stealer().is_empty()) return true;
      // relaxed: as in steal_lifo; the fence in prepare_park orders it
      // against the watchdog's store and notify_one.
      if (s->stalled.load(std::memory_order_relaxed) &&
          s->lifo.load(std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  const ExecutorOptions options_;

  std::mutex slots_mu_;  // serializes enter/leave
  // Slots are appended (never removed) under slots_mu_ and read by stealers,
  // the watchdog and parking workers without it (see WorkerTable).
  WorkerTable slots_;
  std::atomic<uint32_t> num_workers_{0};  // threads inside run()

  Idle idle_;
  // Set by the watchdog while the injector holds tasks, cleared by the
  // first worker that acts on it: that worker takes its share of the
  // injector at its next pick (see on_watchdog_tick).
  // On its own cache line: read at every pick by every worker.
  alignas(64) std::atomic<bool> injector_due_{false};
};

}  // namespace detail

Executor::Executor(ExecutorOptions options)
    : core_(new detail::ExecutorCore(options)), budget_(options.budget) {}
Executor::~Executor() { core_->destroy(); }

detail::Scheduler* Executor::scheduler() noexcept { return core_; }
void Executor::submit(detail::TaskHeader* h) noexcept { core_->submit(h); }
bool Executor::try_tick() { detail::CoopLimitScope budget(budget_); return core_->try_tick(); }
size_t Executor::num_workers() const noexcept { return core_->num_workers(); }
ExecutorMetrics Executor::metrics() const { return core_->metrics(); }

TaskDump Executor::dump() const { return core_->dump(); }

Executor::Worker::Worker(Executor* ex)
    : core_(ex->core_),
      slot_(core_->enter()),
      saved_worker_(detail::exchange_worker_slot(slot_)) {}
Executor::Worker::~Worker() {
  detail::exchange_worker_slot(saved_worker_);
  core_->leave(slot_);
}
detail::Parker* Executor::Worker::parker() noexcept { return &slot_->parker; }
void Executor::Worker::work_until(detail::RootBase& root) noexcept {
  core_->work_until(slot_, root);
}

}  // namespace weft
