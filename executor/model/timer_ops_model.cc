// A model of the timer operation protocol (reactor/timer_entry.h, "The two
// references"; reactor/reactor.cc, submit_timer / cancel_timer /
// run_timers), on the real TimerOpStack (reactor/timer_op_stack.h),
// including unpush: an owner that cancels an entry whose insert the driver
// has not taken takes the insert back instead of pushing a cancel.
//
// The stack is the reactor's own code, compiled here on Relacy's atomics.
// The entry (state, refs, links) and the driver's turn mirror reactor.cc
// with the same memory orders; the wheel is a list of linked entries that
// all come due at once. The Dekker pair that decides whether a push wakes
// the driver (sleep_until_ms_) is not modelled: unchanged by unpush, which
// removes only its caller's own node.
//
// Promises checked in every execution:
//   - no timer lost: an entry its owner never cancels fires (the driver's
//     last turn, after every thread is done, stands for "eventually");
//   - the driver reads an inserted entry's fields only as its pusher wrote
//     them (rl::var: a read racing with a recycle is a DATA RACE), and never
//     links an entry that was taken back;
//   - each entry is recycled exactly once, after everyone is done with it,
//     and not while the driver has it linked; a cancelled entry never fires.
#include <catch2/catch.hpp>

#include <cstdint>

#include "executor/atomic.h"
#include "executor/model/model.h"
#include "reactor/timer_op_stack.h"

namespace weft {
namespace detail {
namespace {

constexpr uint32_t kPending = 0;
constexpr uint32_t kFired = 1;
constexpr uint32_t kCancelled = 2;

struct Entry;
// A stack link whose accesses Relacy tracks (a link read racing with its
// write is a DATA RACE); TimerOpStack uses it as it uses a plain pointer.
struct Link {
  rl::var<Entry*> v;
  Link& operator=(Entry* p) {
    v($) = p;
    return *this;
  }
  operator Entry*() const { return v($); }  // NOLINT: stands in for Entry*
};

struct Entry {
  Link next_insert;
  Link next_cancel;
  atomic<uint32_t> state{kPending};
  atomic<uint32_t> refs{2};
  rl::var<int> when;      // written by the owner before the push
  rl::var<bool> linked;   // the driver's; read at recycle (the last unref)
  rl::var<int> recycled;  // times recycled; the storage's new owner writes
};

constexpr int kEntries = 4;

struct TimerOps : rl::test_suite<TimerOps, 3> {
  Entry e[kEntries];
  TimerOpStack<Entry, &Entry::next_insert> inserts;
  TimerOpStack<Entry, &Entry::next_cancel> cancels;
  Entry* wheel[kEntries] = {};  // driver thread only
  bool fired[kEntries] = {};    // driver thread only (read in after())
  bool cancel_won[kEntries] = {};  // the entry's owner only (read in after())

  // Thread 1's entry c, published before its push, as Timer::set_at stores
  // the entry under the Timer's lock and pushes it after unlocking; either
  // thread may take it (Timer::cancel, from any thread) and drop it.
  atomic<Entry*> handoff{nullptr};

  void before() {
    for (Entry& x : e) {
      x.next_insert = nullptr;
      x.next_cancel = nullptr;
      x.linked($) = false;
      x.recycled($) = 0;
      x.when($) = 0;
    }
  }

  int id(Entry* x) { return static_cast<int>(x - e); }

  // TimerEntry::unref: the last reference recycles.
  void unref(Entry* x, uint32_t n) {
    const uint32_t held = x->refs.fetch_sub(n, std::memory_order_acq_rel);
    RL_ASSERT(held >= n);  // nobody drops a reference it does not hold
    if (held == n) {
      RL_ASSERT(!x->linked($));
      x->recycled($) = x->recycled($) + 1;
      x->when($) = -1;  // the storage's next user writes it
    }
  }

  // Reactor::submit_timer, without the wake.
  void submit(Entry* x) {
    x->when($) = 100 + id(x);
    inserts.push(x);
  }

  // Reactor::cancel_timer.
  void cancel(Entry* x) {
    if (inserts.unpush(x)) {
      cancel_won[id(x)] = true;
      x->state.store(kCancelled, std::memory_order_relaxed);
      unref(x, 2);
      return;
    }
    uint32_t expected = kPending;
    if (x->state.compare_exchange_strong(expected, kCancelled, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      cancel_won[id(x)] = true;
      cancels.push(x);
    } else {
      unref(x, 1);
    }
  }

  // Sleep::~Sleep: fired, drop our reference; else cancel.
  void drop(Entry* x) {
    if (x->state.load(std::memory_order_acquire) == kFired) {
      unref(x, 1);
    } else {
      cancel(x);
    }
  }

  // Reactor::run_timers; every linked entry is due.
  void turn() {
    Entry* ins = inserts.take();
    Entry* can = cancels.take();
    for (Entry* x = ins; x;) {
      Entry* next = x->next_insert;
      RL_ASSERT(x->when($) == 100 + id(x));  // published, and not recycled
      if (x->state.load(std::memory_order_acquire) == kPending) {
        x->linked($) = true;
        wheel[id(x)] = x;
      } else {
        unref(x, 1);
      }
      x = next;
    }
    for (Entry* x = can; x;) {
      Entry* next = x->next_cancel;
      if (x->linked($)) {
        x->linked($) = false;
        wheel[id(x)] = nullptr;
        unref(x, 1);
      }
      unref(x, 1);
      x = next;
    }
    for (Entry*& x : wheel) {
      if (!x) continue;
      Entry* due = x;
      x = nullptr;
      due->linked($) = false;
      uint32_t expected = kPending;
      if (due->state.compare_exchange_strong(expected, kFired, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
        fired[id(due)] = true;
      }
      unref(due, 1);
    }
  }

  void thread(unsigned t) {
    if (t == 0) {
      // Arm two; cancel the newer (usually taken back) while an awaiter
      // holds a third reference, then the older (under it, or taken).
      Entry* a = &e[0];
      Entry* b = &e[1];
      b->refs.store(3, std::memory_order_relaxed);  // not shared yet
      submit(a);
      submit(b);
      cancel(b);
      unref(b, 1);  // the awaiter's
      drop(a);
      // acquire: pairs with thread 1's release store of c.
      if (Entry* c = handoff.exchange(nullptr, std::memory_order_acquire)) drop(c);
    } else if (t == 1) {
      // Pushes between thread 0's push and unpush; its entry c may be
      // cancelled by thread 0, even before c's push; arms one it keeps.
      Entry* c = &e[2];
      // release: pairs with the exchanges that take c (the "lock").
      handoff.store(c, std::memory_order_release);
      submit(c);
      // acquire: pairs with the store above (and is the lock's other half).
      if (Entry* mine = handoff.exchange(nullptr, std::memory_order_acquire)) drop(mine);
      submit(&e[3]);
    } else {
      turn();
      turn();
    }
  }

  void after() {
    turn();  // the driver takes everything left, eventually
    RL_ASSERT(fired[3]);  // never cancelled: fires
    unref(&e[3], 1);      // its owner lets go
    for (int i = 0; i < kEntries; ++i) {
      RL_ASSERT(fired[i] != cancel_won[i]);  // exactly one of the two
      RL_ASSERT(e[i].recycled($) == 1);
    }
  }
};

TEST_CASE("model: timer inserts taken back by unpush, cancels, and the driver's turns") {
  CHECK(model::check<TimerOps>({rl::sched_bound, 2}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<TimerOps>({rl::sched_random, 0, 100000}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
