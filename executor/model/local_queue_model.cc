// Models of the worker run queue (executor/local_queue.h, capacity 4 as in
// the checking build) and of the LIFO slot (executor/worker_slot.h): every
// pushed task is taken exactly once -- popped by the owner, stolen, or
// handed back as overflow -- and its header is published to the taker.
#include <catch2/catch.hpp>

#include "executor/local_queue.h"
#include "executor/model/model.h"
#include "executor/model/model_tasks.h"
#include "executor/task_header.h"
#include "executor/worker_slot.h"

namespace weft {
namespace detail {
namespace {

static_assert(LocalQueue::kCapacity == 4, "the models assume the checking build's capacity");


// A thief's side: steal half into its own queue, run the returned task and
// drain what was moved.
inline void steal_and_drain(LocalQueue& victim, LocalQueue& mine, auto& tasks) {
  LocalQueue::Owner own(mine);
  if (TaskHeader* t = LocalQueue::Stealer(victim).steal_into(own)) tasks.take(t);
  while (TaskHeader* t = own.pop()) tasks.take(t);
}

// The owner pushes 3 and pops while a thief steals half.
struct PushPopSteal : rl::test_suite<PushPopSteal, 2> {
  LocalQueue queue, thief_queue;
  Tasks<3> tasks;

  void thread(unsigned id) {
    if (id == 0) {
      LocalQueue::Owner owner(queue);
      for (unsigned i = 0; i < 3; ++i) {
        tasks.prepare(i);
        LocalQueue::Overflow o = owner.push_back(&tasks.items[i]);
        RL_ASSERT(o.count == 0);  // 3 fit in 4
      }
      while (TaskHeader* t = owner.pop()) tasks.take(t);
    } else {
      steal_and_drain(queue, thief_queue, tasks);
    }
  }
  void after() { tasks.all_taken(); }
};

// The owner overfills the queue (5 into 4) while a thief steals: the
// overflow batch, the claim of the older half against the steal, and the
// "a stealer is copying" hand-back.
struct OverflowVsSteal : rl::test_suite<OverflowVsSteal, 2> {
  LocalQueue queue, thief_queue;
  Tasks<5> tasks;

  void thread(unsigned id) {
    if (id == 0) {
      LocalQueue::Owner owner(queue);
      for (unsigned i = 0; i < 5; ++i) {
        tasks.prepare(i);
        LocalQueue::Overflow o = owner.push_back(&tasks.items[i]);
        // The batch goes to the injector in the executor; here the owner
        // takes it.
        TaskHeader* t = o.first;
        for (uint32_t k = 0; k < o.count; ++k) {
          TaskHeader* next = t->next;
          tasks.take(t);
          t = next;
        }
      }
      while (TaskHeader* t = owner.pop()) tasks.take(t);
    } else {
      steal_and_drain(queue, thief_queue, tasks);
    }
  }
  void after() { tasks.all_taken(); }
};

// Two thieves (steal_into and steal_one) against the owner.
struct TwoThieves : rl::test_suite<TwoThieves, 3> {
  LocalQueue queue, thief_queue;
  Tasks<4> tasks;

  void thread(unsigned id) {
    if (id == 0) {
      LocalQueue::Owner owner(queue);
      for (unsigned i = 0; i < 4; ++i) {
        tasks.prepare(i);
        RL_ASSERT(owner.push_back(&tasks.items[i]).count == 0);
      }
      while (TaskHeader* t = owner.pop()) tasks.take(t);
    } else if (id == 1) {
      steal_and_drain(queue, thief_queue, tasks);
    } else {
      if (TaskHeader* t = LocalQueue::Stealer(queue).steal_one()) tasks.take(t);
    }
  }
  void after() { tasks.all_taken(); }
};

// The LIFO slot: the owner puts the task it woke, then takes it to run next;
// meanwhile the watchdog marks the owner stalled and a thief takes the slot,
// in the steps of ExecutorCore::steal_lifo (executor.cc). The task runs
// exactly once.
struct LifoSlot : rl::test_suite<LifoSlot, 2> {
  WorkerSlot slot{nullptr};
  Tasks<1> tasks;

  void thread(unsigned id) {
    if (id == 0) {
      tasks.prepare(0);
      // acq_rel, as ExecutorCore::schedule: publishes the header to a thief.
      TaskHeader* prev = slot.lifo.exchange(&tasks.items[0], std::memory_order_acq_rel);
      RL_ASSERT(prev == nullptr);
      // The owner's next pick (next_task): clear stalled, take the slot.
      slot.stalled.store(false, std::memory_order_relaxed);
      if (TaskHeader* t = slot.lifo.exchange(nullptr, std::memory_order_acq_rel)) tasks.take(t);
    } else {
      slot.stalled.store(true, std::memory_order_relaxed);  // the watchdog
      // steal_lifo: relaxed hints, then the exchange decides.
      if (!slot.stalled.load(std::memory_order_relaxed)) return;
      if (!slot.lifo.load(std::memory_order_relaxed)) return;
      if (TaskHeader* t = slot.lifo.exchange(nullptr, std::memory_order_acq_rel)) tasks.take(t);
    }
  }
  void after() { tasks.all_taken(); }
};

TEST_CASE("model: LocalQueue push/pop against steal_into") {
  CHECK(model::check<PushPopSteal>({rl::sched_bound, 2}));
}

TEST_CASE("model: LocalQueue overflow against steal_into") {
  CHECK(model::check<OverflowVsSteal>({rl::sched_bound, 2}));
}

TEST_CASE("model: LocalQueue with two thieves") {
  CHECK(model::check<TwoThieves>({rl::sched_bound, 1}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<TwoThieves>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model (deep): LocalQueue with two thieves at bound 2", "[.deep]") {
  CHECK(model::check<TwoThieves>({rl::sched_bound, 2}));
}

TEST_CASE("model: the LIFO slot is taken exactly once") {
  CHECK(model::check<LifoSlot>({}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
