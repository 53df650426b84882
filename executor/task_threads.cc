#include "executor/task_threads.h"

namespace weft {
namespace detail {
namespace {

// Written once by the reactor's start; read by every task thread.
std::atomic<const ReactorHooks*> g_hooks{nullptr};
// Task threads awake now. Counted here, not in the reactor, so that threads
// that started before the reactor existed are counted too. Changed with
// seq_cst: the reactor pairs it with its driver's idle flag (Dekker).
std::atomic<int> g_awake{0};
// Awake threads that polled during the driver's last check interval;
// written by the driver only, read by parking threads (relaxed, a hint).
std::atomic<int> g_num_fresh{0};
// Every TaskThread record ever made, linked through `next` (pushed, never
// removed: the driver walks the list without a lock).
struct Record : TaskThread {
  Record* next = nullptr;  // immutable once published
};
std::atomic<Record*> g_records{nullptr};

const ReactorHooks* hooks() noexcept {
  // acquire: pairs with the release in set_reactor_hooks(), so the reactor
  // is fully built before its hooks run.
  return g_hooks.load(std::memory_order_acquire);
}

Record* claim_record() noexcept {
  // acquire: pairs with the release CAS that published each record.
  for (Record* r = g_records.load(std::memory_order_acquire); r; r = r->next) {
    bool expected = false;
    // acq_rel: pairs with the releasing thread's store in ~Owner, so its
    // last writes to the record happen before ours.
    if (r->in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return r;
  }
  auto* r = new Record();  // never freed: the driver may be reading it
  // relaxed: not yet visible to anyone.
  r->in_use.store(true, std::memory_order_relaxed);
  Record* head = g_records.load(std::memory_order_relaxed);
  do {
    r->next = head;
    // release: publishes the record's fields to walkers of the list.
  } while (!g_records.compare_exchange_weak(head, r, std::memory_order_release,
                                            std::memory_order_relaxed));
  return r;
}

// The calling thread's record, claimed on first use, given back at exit.
struct Owner {
  Record* record = nullptr;
  ~Owner() {
    // release: pairs with the next claimer's CAS.
    if (record) record->in_use.store(false, std::memory_order_release);
  }
};
thread_local Owner t_owner;

TaskThread* self() noexcept {
  if (!t_owner.record) t_owner.record = claim_record();
  return t_owner.record;
}

void become_awake(TaskThread* me) noexcept {
  // relaxed: a snapshot for the driver (see TaskThread).
  me->awake.store(true, std::memory_order_relaxed);
  if (g_awake.fetch_add(1, std::memory_order_seq_cst) == 0) {
    if (const ReactorHooks* h = hooks()) h->first_awake();
  }
}

void become_asleep(TaskThread* me) noexcept {
  me->awake.store(false, std::memory_order_relaxed);
  g_awake.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace

void set_reactor_hooks(const ReactorHooks* h) noexcept {
  g_hooks.store(h, std::memory_order_release);
}

TaskThreadScope::TaskThreadScope() noexcept {
  TaskThread* me = self();
  if (me->depth++ == 0) become_awake(me);
}

TaskThreadScope::~TaskThreadScope() {
  TaskThread* me = t_owner.record;
  if (--me->depth == 0) become_asleep(me);
}

int poll_io_now() noexcept {
  const ReactorHooks* h = hooks();
  if (!h) return 0;
  if (Record* me = t_owner.record; me && me->depth) {
    // relaxed: owner-only counter (see TaskThread::polls).
    me->polls.store(me->polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  return h->poll();
}

int poll_io_before_park() noexcept {
  const ReactorHooks* h = hooks();
  if (!h) return 0;
  Record* me = t_owner.record;
  if (!me || me->depth == 0) return h->poll();  // it will park on its futex
  // Counted whether or not the reactor skips the syscall: the thread looks
  // at I/O either way, in this poll or in the watcher's wait right after.
  // relaxed: owner-only counter (see TaskThread::polls).
  me->polls.store(me->polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return h->poll_before_park(me);
}

void park_task_thread(Parker& parker) noexcept {
  Record* me = t_owner.record;
  const ReactorHooks* h = hooks();
  if (!me || me->depth == 0 || !h) {
    parker.park();
    return;
  }
  become_asleep(me);
  h->park(me, parker);
  become_awake(me);
}

int awake_task_threads() noexcept { return g_awake.load(std::memory_order_seq_cst); }

TaskThreadsSeen observe_task_threads() noexcept {
  TaskThreadsSeen seen;
  // acquire: pairs with claim_record()'s release CAS.
  for (Record* r = g_records.load(std::memory_order_acquire); r; r = r->next) {
    // relaxed: snapshots (see TaskThread).
    const uint32_t polls = r->polls.load(std::memory_order_relaxed);
    const bool moved = polls != r->seen_polls;
    const bool f = moved && r->polled_before && r->awake.load(std::memory_order_relaxed);
    r->seen_polls = polls;
    r->polled_before = moved;
    r->fresh.store(f, std::memory_order_relaxed);
    seen.fresh += f;
    seen.polled |= moved;
  }
  g_num_fresh.store(seen.fresh, std::memory_order_relaxed);
  return seen;
}

bool others_polling(const TaskThread* self) noexcept {
  // relaxed: hints written by the driver once per check interval.
  int n = g_num_fresh.load(std::memory_order_relaxed);
  if (self && self->fresh.load(std::memory_order_relaxed)) --n;
  return n > 0;
}

}  // namespace detail
}  // namespace weft
