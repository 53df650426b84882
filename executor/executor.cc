#include "executor/executor.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <mutex>
#include "executor/block_on.h"
#include "executor/idle_poll.h"
#include "executor/local_queue.h"
#include "executor/parker.h"
#include "executor/scheduler_core.h"

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
// Upper bound on threads inside run() at once; slots are reused.
inline constexpr uint32_t kMaxWorkers = 256;
// Upper bound on tasks moved from the injector to a local queue at once.
inline constexpr size_t kInjectorBatch = LocalQueue::kCapacity / 2;

// One per thread inside run(); reused by later threads.
struct WorkerSlot {
  explicit WorkerSlot(ExecutorCore* c) : core(c) {}

  ExecutorCore* const core;
  LocalQueue queue;  // owner pushes and pops; others steal
  Parker parker;     // the owner sleeps here

  // Owner thread only:
  TaskHeader* lifo = nullptr;
  uint32_t lifo_streak = 0;
  uint32_t tick = 0;
  bool searching = false;
  uint64_t rng = 0x9E3779B97F4A7C15ull;

  // Guarded by ExecutorCore::sleepers_mu_ (declared there):
  bool in_sleepers = false;
  // Written under ExecutorCore::slots_mu_.
  bool in_use = false;
};

thread_local WorkerSlot* t_worker = nullptr;
// The LocalExecutor core the thread is running (local_executor.cc).
extern thread_local void* t_local_core;

class ExecutorCore final : public SchedulerCore {
 public:
  explicit ExecutorCore(ExecutorOptions o) : options_(o) { sleepers_.reserve(kMaxWorkers); }

  void schedule(TaskHeader* t) noexcept override {
    WorkerSlot* w = t_worker;
    if (w && w->core == this) {
      if (options_.lifo_slot) {
        TaskHeader* prev = w->lifo;
        w->lifo = t;
        if (!prev) return;  // it runs next on this worker; nobody to wake
        t = prev;
      }
      push_local(w, t);
      notify_one();
      return;
    }
    push_remote(t);
  }

  void submit(TaskHeader* t) noexcept {
    adopt(t);
    WorkerSlot* w = t_worker;
    if (w && w->core == this) {
      schedule(t);
      return;
    }
    // A spawn from outside: the caller holds the Executor, so the core
    // cannot be shut down under us and push_remote's reference (for wakes
    // racing with destruction) is not needed; two contended atomic RMWs less
    // per spawn. The injector is open while the Executor lives.
    injector_.push(t);
    notify_one();
  }

  WorkerSlot* enter() {
    std::lock_guard<std::mutex> lock(slots_mu_);
    // relaxed: slots_ and num_slots_ are only written under slots_mu_, which
    // we hold; the lock orders us after every earlier writer.
    uint32_t n = num_slots_.load(std::memory_order_relaxed);
    WorkerSlot* slot = nullptr;
    for (uint32_t i = 0; i < n; ++i) {
      WorkerSlot* s = slots_[i].load(std::memory_order_relaxed);
      if (!s->in_use) {
        slot = s;
        break;
      }
    }
    if (!slot) {
      if (n == kMaxWorkers) {
        std::fprintf(stderr, "weft: more than %u threads inside one Executor::run()\n",
                     kMaxWorkers);
        std::abort();
      }
      slot = new WorkerSlot(this);
      // release: pairs with the acquire loads of slots_/num_slots_ by
      // stealers, which then see a constructed slot.
      slots_[n].store(slot, std::memory_order_release);
      num_slots_.store(n + 1, std::memory_order_release);
    }
    slot->in_use = true;
    slot->tick = 0;
    slot->rng ^= reinterpret_cast<uintptr_t>(&slot) | 1;
    // relaxed: a count for the search limit and for the destructor's check;
    // it publishes nothing (the slot itself is published above).
    num_workers_.fetch_add(1, std::memory_order_relaxed);
    retain();
    return slot;
  }

  void leave(WorkerSlot* w) noexcept {
    // Hand queued tasks to the injector so other workers (or shutdown) get them.
    LocalQueue::Overflow rest;
    auto append = [&rest](TaskHeader* t) {
      t->next = nullptr;
      if (rest.last) rest.last->next = t; else rest.first = t;
      rest.last = t;
      ++rest.count;
    };
    if (w->lifo) append(std::exchange(w->lifo, nullptr));
    while (TaskHeader* t = w->queue.pop()) append(t);
    if (rest.count) injector_.push_batch(rest.first, rest.last, rest.count);
    if (w->searching) end_search(w);
    {
      std::lock_guard<std::mutex> lock(slots_mu_);
      w->in_use = false;
    }
    // relaxed: as in enter(); the user joins this thread before destroying
    // the executor, which orders this before destroy()'s check.
    num_workers_.fetch_sub(1, std::memory_order_relaxed);
    if (rest.count) notify_one();
    release();
  }

  void work_until(WorkerSlot* w, RootBase& root) noexcept {
    PollerScope awake;
    for (;;) {
      if (root.poll()) return;
      if (w->tick % kIdlePollInterval == 0) idle_poll();
      if (TaskHeader* t = next_task(w)) {
        run_one(w, t);
        continue;
      }
      if (root.ready()) continue;
      // Out of work: events found now wake their tasks onto this worker.
      if (idle_poll() > 0) continue;
      park(w, root);
    }
  }

  bool try_tick() noexcept {
    TaskHeader* t = injector_.pop();
    if (!t) {
      // acquire: pairs with enter()'s release stores, so each slot we read
      // is constructed.
      uint32_t n = num_slots_.load(std::memory_order_acquire);
      for (uint32_t i = 0; i < n && !t; ++i) {
        t = slots_[i].load(std::memory_order_acquire)->queue.steal_one();
      }
    }
    if (!t) return false;
    WorkerContextGuard guard;  // wakes during the run go to the injector
    if (run_task(t) == RunResult::kReschedule) push_remote(t);
    return true;
  }

  // relaxed: a snapshot (see enter()).
  size_t num_workers() const noexcept { return num_workers_.load(std::memory_order_relaxed); }

  // The Executor's destructor: see SchedulerCore for the steps.
  void destroy() noexcept {
    if (size_t n = num_workers()) {
      std::fprintf(stderr, "weft: Executor destroyed while %zu thread(s) are inside run()\n", n);
      std::abort();
    }
    TaskHeader* queued = nullptr;
    // acquire: pairs with enter()'s release stores (the slots are read here,
    // on the destroying thread).
    uint32_t n = num_slots_.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < n; ++i) {
      WorkerSlot* s = slots_[i].load(std::memory_order_acquire);
      while (TaskHeader* t = s->queue.pop()) {  // empty: leave() drained it
        t->next = queued;
        queued = t;
      }
    }
    shut_down(queued);
    release();
  }

 private:
  ~ExecutorCore() override {
    // relaxed: the last release() of the core acquired every holder's
    // writes (see SchedulerCore::release).
    uint32_t n = num_slots_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < n; ++i) delete slots_[i].load(std::memory_order_relaxed);
  }

  void notify_remote() noexcept override { notify_one(); }

  void push_local(WorkerSlot* w, TaskHeader* t) noexcept {
    LocalQueue::Overflow o = w->queue.push_back(t);
    if (o.count) injector_.push_batch(o.first, o.last, o.count);  // open: we are a worker
  }

  void run_one(WorkerSlot* w, TaskHeader* t) noexcept {
    if (run_task(t) == RunResult::kReschedule) {
      // Woken during its own run (a yield): back of the queue, never LIFO.
      push_local(w, t);
      notify_one();
    }
  }

  TaskHeader* next_task(WorkerSlot* w) noexcept {
    ++w->tick;
    if (w->tick % kGlobalQueueInterval == 0) {
      if (TaskHeader* t = injector_.pop()) return found(w, t);
    }
    if (TaskHeader* t = w->lifo) {
      w->lifo = nullptr;
      if (w->lifo_streak < kMaxLifoPolls) {
        ++w->lifo_streak;
        return t;
      }
      push_local(w, t);  // give the others a turn
    }
    w->lifo_streak = 0;
    if (TaskHeader* t = w->queue.pop()) return t;
    if (TaskHeader* t = pop_injector_batch(w)) return found(w, t);
    if (!start_search(w)) return nullptr;
    if (TaskHeader* t = steal(w)) return found(w, t);
    if (TaskHeader* t = pop_injector_batch(w)) return found(w, t);
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
    // acquire: pairs with enter()'s release stores of slots_ and num_slots_.
    uint32_t n = num_slots_.load(std::memory_order_acquire);
    if (n <= 1) return nullptr;
    // xorshift: a cheap per-worker random start, so thieves spread out.
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    uint32_t start = static_cast<uint32_t>(w->rng % n);
    for (uint32_t i = 0; i < n; ++i) {
      WorkerSlot* victim = slots_[(start + i) % n].load(std::memory_order_acquire);
      if (victim == w) continue;
      if (TaskHeader* t = victim->queue.steal_into(w->queue)) return t;
    }
    return nullptr;
  }

  // --- idle coordination -------------------------------------------------
  bool start_search(WorkerSlot* w) noexcept {
    if (w->searching) return true;
    // relaxed: the limit is a heuristic; the counts are exact where it
    // matters (notify_one and park read them after seq_cst fences).
    uint32_t searching = num_searching_.load(std::memory_order_relaxed);
    if (2 * searching >= num_workers()) return false;
    num_searching_.fetch_add(1, std::memory_order_seq_cst);
    w->searching = true;
    return true;
  }

  void end_search(WorkerSlot* w) noexcept {
    w->searching = false;
    // seq_cst: part of the Dekker pair with notify_one (see park()).
    if (num_searching_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      // We were the last searcher; there may be more work than we took.
      notify_one();
    }
  }

  TaskHeader* found(WorkerSlot* w, TaskHeader* t) noexcept {
    if (w->searching) end_search(w);
    return t;
  }

  // Wakes one parked worker, unless a worker is already searching (it will
  // find the work, and wake another if it finds some) or nobody sleeps.
  void notify_one() noexcept {
    // seq_cst fence: pairs with the fence in park(). Either this thread sees
    // the parking worker's registration, or that worker sees our pushed
    // task when it re-checks the queues. Without it both could miss.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (num_searching_.load(std::memory_order_relaxed) != 0) return;
    if (num_sleepers_.load(std::memory_order_relaxed) == 0) return;
    WorkerSlot* wake = nullptr;
    {
      std::lock_guard<std::mutex> lock(sleepers_mu_);
      if (!sleepers_.empty()) {
        wake = sleepers_.back();
        sleepers_.pop_back();
        wake->in_sleepers = false;
        // relaxed: changed only under sleepers_mu_; the lock-free reader in
        // notify_one orders itself with the seq_cst fences.
        num_sleepers_.fetch_sub(1, std::memory_order_relaxed);
        // The woken worker starts out searching (see unsleep()).
        num_searching_.fetch_add(1, std::memory_order_seq_cst);
      }
    }
    if (wake) wake->parker.unpark();
  }

  void park(WorkerSlot* w, RootBase& root) noexcept {
    {
      std::lock_guard<std::mutex> lock(sleepers_mu_);
      sleepers_.push_back(w);
      w->in_sleepers = true;
      // relaxed: as in notify_one; the seq_cst fence below publishes it.
      num_sleepers_.fetch_add(1, std::memory_order_relaxed);
    }
    if (w->searching) {
      w->searching = false;
      num_searching_.fetch_sub(1, std::memory_order_seq_cst);
    }
    // seq_cst fence: pairs with notify_one()'s fence (see there).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!work_visible() && !root.ready()) {
      poller_parking();  // the reactor's thread watches I/O while we sleep
      w->parker.park();
      poller_awake();
    }
    unsleep(w);
  }

  void unsleep(WorkerSlot* w) noexcept {
    std::lock_guard<std::mutex> lock(sleepers_mu_);
    if (w->in_sleepers) {  // woke by itself (or for the root): not searching
      for (size_t i = 0; i < sleepers_.size(); ++i) {
        if (sleepers_[i] == w) {
          sleepers_[i] = sleepers_.back();
          sleepers_.pop_back();
          break;
        }
      }
      w->in_sleepers = false;
      // relaxed: as in notify_one.
      num_sleepers_.fetch_sub(1, std::memory_order_relaxed);
    } else {
      w->searching = true;  // notify_one counted us as searching
    }
  }

  bool work_visible() const noexcept {
    if (!injector_.is_empty()) return true;
    // acquire: pairs with enter()'s release stores of slots_ and num_slots_.
    uint32_t n = num_slots_.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < n; ++i) {
      if (!slots_[i].load(std::memory_order_acquire)->queue.is_empty()) return true;
    }
    return false;
  }

  const ExecutorOptions options_;

  std::mutex slots_mu_;  // serializes enter/leave
  // Slots are appended (never removed) under slots_mu_ and read by stealers
  // without it: the release store of num_slots_ publishes the new slot.
  std::atomic<WorkerSlot*> slots_[kMaxWorkers] = {};
  std::atomic<uint32_t> num_slots_{0};
  std::atomic<uint32_t> num_workers_{0};  // threads inside run()

  // Workers looking for work to steal: changed with seq_cst (Dekker with
  // notify_one and park), read relaxed after a seq_cst fence.
  std::atomic<uint32_t> num_searching_{0};

  std::mutex sleepers_mu_;
  std::vector<WorkerSlot*> sleepers_;  // guarded by sleepers_mu_
  // Mirrors sleepers_.size() for the lock-free check in notify_one.
  std::atomic<uint32_t> num_sleepers_{0};
};

WorkerContextGuard::WorkerContextGuard() noexcept
    : saved_worker_(std::exchange(t_worker, nullptr)),
      saved_local_(std::exchange(t_local_core, nullptr)) {}

WorkerContextGuard::~WorkerContextGuard() {
  t_worker = static_cast<WorkerSlot*>(saved_worker_);
  t_local_core = saved_local_;
}

}  // namespace detail

Executor::Executor(ExecutorOptions options)
    : core_(new detail::ExecutorCore(options)), budget_(options.budget) {}
Executor::~Executor() { core_->destroy(); }

detail::Scheduler* Executor::scheduler() noexcept { return core_; }
void Executor::submit(detail::TaskHeader* h) noexcept { core_->submit(h); }
bool Executor::try_tick() { detail::CoopLimitScope budget(budget_); return core_->try_tick(); }
size_t Executor::num_workers() const noexcept { return core_->num_workers(); }

Executor::Worker::Worker(Executor* ex)
    : core_(ex->core_), slot_(core_->enter()), saved_worker_(detail::t_worker) {
  detail::t_worker = slot_;
}
Executor::Worker::~Worker() {
  detail::t_worker = static_cast<detail::WorkerSlot*>(saved_worker_);
  core_->leave(slot_);
}
detail::Parker* Executor::Worker::parker() noexcept { return &slot_->parker; }
void Executor::Worker::work_until(detail::RootBase& root) noexcept {
  core_->work_until(slot_, root);
}

}  // namespace weft
