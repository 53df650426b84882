// Models of the AtomicWaker (executor/atomic_waker.h): register_waker /
// withdraw on the owner's side against take / wake / close from others.
//
// The Wakers are real ones, of stand-in tasks (stand_in.h): a TaskHeader
// with no frame whose Scheduler counts the schedule() calls a wake makes
// (task_state.cc's wake_by_ref, compiled here). So a wake is counted where it lands, and each
// Waker is a counted reference: a Waker the slot loses or drops twice shows
// as Relacy's "memory leak" or "double free" of the stand-in header (the
// model drops the header's own reference at the end).
//
// Promises checked:
// - no lost wake: a Waker whose register_waker() returned true is woken
//   exactly once, by the take()/close() that followed, or is still in the
//   slot (taken and woken by the model at the end);
// - a Waker whose register_waker() returned false is never woken;
// - no double wake: every stand-in is scheduled at most once;
// - after withdraw(), the withdrawn Waker is no longer in the slot: the only
//   Waker a later take() can find is the one registered after it;
// - register_waker() after close() returns false, and a false return caused
//   by close() lets the owner see what the closer wrote before close()
//   (an rl::var: Relacy reports a data race otherwise);
// - wait_closed() returns once close() + notify_blocked() happened (a lost
//   notification is a deadlock).
#include <catch2/catch.hpp>

#include "executor/atomic_waker.h"
#include "executor/model/model.h"
#include "executor/model/stand_in.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {
namespace {

// What the slot still holds at the end (not closed): take it and wake it,
// so that "woken exactly once" also covers a Waker left registered.
void drain(AtomicWaker& slot) {
  if (!slot.closed()) slot.take().wake();
}

// register vs close (the overlap the stress test cannot see): the owner
// registers A; the closer publishes `data`, closes and wakes what it took.
struct RegisterVsClose : rl::test_suite<RegisterVsClose, 2> {
  AtomicWaker slot;
  StandIn a, b;
  rl::var<int> data;
  bool registered = false;

  void before() {
    a.make();
    b.make();
    data($) = 0;
  }
  void thread(unsigned id) {
    if (id == 0) {
      registered = slot.register_waker(a.waker());
      if (!registered) {
        // Closed (the only other party): what the closer wrote is visible.
        RL_ASSERT(data($) == 1);
      }
    } else {
      data($) = 1;
      slot.close().wake();
    }
  }
  void after() {
    RL_ASSERT(a.wakes() == (registered ? 1 : 0));
    RL_ASSERT(slot.closed());
    RL_ASSERT(!slot.register_waker(b.waker()));  // closed: refused at once
    RL_ASSERT(b.wakes() == 0);
    a.drop();
    b.drop();
  }
};

// register vs take: a take that overlaps the registration makes it return
// false; one before it finds nothing (the Waker stays registered); one after
// it takes and wakes it.
struct RegisterVsTake : rl::test_suite<RegisterVsTake, 2> {
  AtomicWaker slot;
  StandIn a;
  bool registered = false;

  void before() { a.make(); }
  void thread(unsigned id) {
    if (id == 0) {
      registered = slot.register_waker(a.waker());
    } else {
      slot.wake();
    }
  }
  void after() {
    drain(slot);
    RL_ASSERT(a.wakes() == (registered ? 1 : 0));
    a.drop();
  }
};

// The owner registers A, withdraws it, registers B; a waker takes once and a
// closer closes. A is woken at most once and only if its registration held;
// once withdraw() returned nobody can find A; B is woken exactly once iff
// its registration held; the slot ends empty.
struct WithdrawVsTakeVsClose : rl::test_suite<WithdrawVsTakeVsClose, 3> {
  AtomicWaker slot;
  StandIn a, b;
  bool reg_a = false, reg_b = false;
  weft::atomic<bool> withdrawn{false};

  void before() {
    a.make();
    b.make();
  }
  void thread(unsigned id) {
    if (id == 0) {
      reg_a = slot.register_waker(a.waker());
      slot.withdraw();
      // release: pairs with the wakers' acquire load below.
      withdrawn.store(true, std::memory_order_release);
      reg_b = slot.register_waker(b.waker());
    } else {
      // Whatever a take()/close() after the withdrawal finds, it is not A.
      // acquire: pairs with the owner's release store.
      const bool after_withdraw = withdrawn.load(std::memory_order_acquire);
      Waker w = id == 1 ? slot.take() : slot.close();
      if (after_withdraw) {
        Waker probe = a.waker();
        RL_ASSERT(!w.will_wake(probe));
      }
      std::move(w).wake();
    }
  }
  void after() {
    RL_ASSERT(a.wakes() <= (reg_a ? 1 : 0));
    RL_ASSERT(b.wakes() == (reg_b ? 1 : 0));  // close() came after or took it
    RL_ASSERT(slot.closed());
    a.drop();
    b.drop();
  }
};

// wait_closed() (a thread that is not a task) against close() +
// notify_blocked(): no lost notification, and the closer's writes are seen.
struct WaitClosed : rl::test_suite<WaitClosed, 2> {
  AtomicWaker slot;
  rl::var<int> data;

  void before() { data($) = 0; }
  void thread(unsigned id) {
    if (id == 0) {
      slot.wait_closed();
      RL_ASSERT(data($) == 1);
    } else {
      data($) = 1;
      slot.close().wake();
      slot.notify_blocked();
    }
  }
};

TEST_CASE("model: AtomicWaker register vs close") {
  CHECK(model::check<RegisterVsClose>({rl::sched_full}));
}

TEST_CASE("model: AtomicWaker register vs take") {
  CHECK(model::check<RegisterVsTake>({rl::sched_full}));
}

TEST_CASE("model: AtomicWaker register/withdraw/register vs take vs close") {
  CHECK(model::check<WithdrawVsTakeVsClose>({rl::sched_bound, 3}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<WithdrawVsTakeVsClose>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model: AtomicWaker wait_closed vs close") {
  CHECK(model::check<WaitClosed>({rl::sched_bound, 2}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
