// Models of the wake-one-sleeper protocol (executor/idle.*) over the real
// Idle, Injector and Parker: work pushed to the injector and announced with
// notify_one() is never left behind while every worker sleeps.
//
// The workers' loop is the shape of ExecutorCore::work_until / next_task /
// park (executor.cc) cut down to the injector: take work (searching first if
// allowed), leave searching before running it, otherwise give up searching,
// prepare_park, re-check, park, unsleep. A lost wake-up leaves a worker
// parked with work in the injector and nobody to run it: Relacy reports the
// deadlock.
#include <catch2/catch.hpp>

#include "executor/idle.h"
#include "executor/injector.h"
#include "executor/model/model.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {
namespace {

// A ParkBlocker (the reactor's epoll_wait woken by an eventfd) on a Relacy
// semaphore of at most one count, which never wakes spuriously. The futex
// model (atomic_relacy.h) does allow spurious wake-ups, as the kernel's
// futex does, and with a worker asleep on it the context-bound search
// branches on "wake it spuriously?" at every step: the three-thread search
// with even one preemption then runs for many minutes. park() hides a
// spurious futex wake-up (it sleeps again; parker_model checks that), so
// a worker parked here in park_in() exercises the same Idle protocol, and
// the real Parker's park_in/unpark/interrupt path, without those branches.
class SemaBlocker final : public ParkBlocker {
 public:
  SemaBlocker() { sema_.init(/*spurious_wakeups=*/false, 0, 1, $); }
  ~SemaBlocker() { sema_.deinit($); }
  void block() noexcept override { sema_.wait(/*try_wait=*/false, /*is_timed=*/false, $); }
  void interrupt() noexcept override {
    unsigned prev = 0;
    sema_.post(1, prev, $);  // fails if a count is pending (an eventfd's counter)
  }

 private:
  struct Tag {};
  rl::semaphore<Tag> sema_;
};

// Common to the models below: `Workers` workers, one producer that pushes
// `Items` tasks to the injector, each followed by notify_one(). With
// kInBlocker, the workers park in a SemaBlocker (park_in) instead of on the
// Parker's futex.
template <class Derived, unsigned Workers, unsigned Items, bool kInBlocker = false>
struct IdleModel : rl::test_suite<Derived, Workers + 1> {
  Idle idle{Workers};
  SemaBlocker blockers[Workers];
  Injector injector;
  Idle::Member members[Workers];
  TaskHeader items[Items];
  // Written by the producer before the push, read and marked by the worker
  // that runs the item: a race or a second run shows on these.
  rl::var<int> payload[Items];
  weft::atomic<uint32_t> ran{0};
  weft::atomic<bool> done{false};

  void thread(unsigned id) {
    if (id == Workers) {
      produce();
    } else {
      work(members[id]);
    }
  }

  void produce() {
    for (unsigned i = 0; i < Items; ++i) {
      payload[i]($) = 1;
      RL_ASSERT(injector.push(&items[i]));
      idle.notify_one();
    }
  }

  void work(Idle::Member& m) {
    for (;;) {
      // acquire: pairs with the release store in run() (the run count).
      if (done.load(std::memory_order_acquire)) return;
      TaskHeader* t = injector.pop();
      if (!t && idle.try_start_search(m, Workers)) t = injector.pop();
      if (t) {
        if (m.searching) idle.end_search(m);  // leave searching before any run
        run(t);
        continue;
      }
      if (m.searching) idle.give_up_search(m);
      idle.prepare_park(m);
      // acquire: as above.
      if (injector.is_empty() && !done.load(std::memory_order_acquire)) {
        if (kInBlocker) {
          m.parker.park_in(blockers[&m - members]);
        } else {
          m.parker.park();
        }
      }
      idle.unsleep(m);
    }
  }

  void run(TaskHeader* t) {
    const auto i = t - items;
    RL_ASSERT(payload[i]($) == 1);  // published, and not run before
    payload[i]($) = 2;
    // acq_rel: the last runner sees every earlier run.
    if (ran.fetch_add(1, std::memory_order_acq_rel) + 1 == Items) {
      // All work ran: release the workers that still sleep (the model's own
      // shutdown; it comes only after the last item ran, so it cannot hide
      // a lost wake-up of an item). release: pairs with the loads in work().
      done.store(true, std::memory_order_release);
      for (Idle::Member& other : members) other.parker.unpark();
    }
  }
};

// One worker, one producer: the worker's prepare_park fence against the
// producer's notify_one fence (the Dekker pair).
struct OneSleeper : IdleModel<OneSleeper, 1, 1> {};
// Two workers, one producer with two items: searching, the limit on
// searchers, the woken worker starting out searching, the last searcher
// waking another.
struct TwoWorkers : IdleModel<TwoWorkers, 2, 2> {};
// The same, the workers parked in blockers: small enough for a systematic
// search.
struct TwoWorkersInBlockers : IdleModel<TwoWorkersInBlockers, 2, 2, true> {};

TEST_CASE("model: Idle wakes a sleeper for work pushed while it parks") {
  CHECK(model::check<OneSleeper>({rl::sched_bound, 2}));
}

TEST_CASE("model: Idle with two workers leaves no work behind") {
  // Bounded on the workers parked in blockers (see SemaBlocker); on the
  // futex, only the schedules without preemption (bound 0) finish quickly,
  // and random ones sample the rest.
  CHECK(model::check<TwoWorkersInBlockers>({rl::sched_bound, 1}));
  CHECK(model::check<TwoWorkers>({rl::sched_bound, 0}));
  CHECK(model::check<TwoWorkers>({rl::sched_random, 0, 100000}));
  CHECK(model::check<TwoWorkersInBlockers>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model (deep): Idle with two workers in blockers at bound 2", "[.deep]") {
  CHECK(model::check<TwoWorkersInBlockers>({rl::sched_bound, 2}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
