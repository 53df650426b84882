// Models of the root wake (executor/thread_root.h): RootBase::schedule()
// against the owner returning. The owner frees the root and its Parker as
// soon as it has seen the wake and finished; ~RootBase must wait out every
// schedule() still touching them.
//
// Two ways a late touch shows:
// - a touch after the free in the explored interleaving is an access to a
//   destroyed rl::atomic, which Relacy reports as "access to freed memory"
//   (a missing wait in ~RootBase);
// - a touch that is not ordered before the free (happens-before) is a data
//   race on `alive`, an rl::var that the owner writes when it frees the
//   Parker and that the waker's unpark() reads from inside the owner's
//   ParkBlocker (its interrupt(), the last thing unpark() does). Relacy does
//   not treat destruction as an access, so this write stands for it: a
//   weakened ordering of the wait (schedule()'s release decrement of
//   schedules_in_flight_, or ~RootBase's acquire load) fails here.
#include <catch2/catch.hpp>

#include <new>

#include "executor/futex.h"
#include "executor/model/model.h"
#include "executor/parker.h"
#include "executor/thread_root.h"

namespace weft {
namespace detail {
namespace {

// A RootBase without a task: the owner's poll() is cut down to its first
// step (taking `ready`), and the run is taken to finish the root.
class ModelRoot final : public RootBase {
 public:
  explicit ModelRoot(Parker* parker) : RootBase(parker) {}
  bool take_ready() {
    // acquire: as RootBase::poll(), pairs with schedule()'s release store.
    return ready_.exchange(false, std::memory_order_acquire);
  }
};

// The owner's ParkBlocker (the reactor's epoll_wait woken through an eventfd,
// as parker_model's): block() returns once interrupt() was called. interrupt()
// then reads `alive`, after it let the owner go: the read stands for
// everything unpark() touches after the owner may have seen the wake, and the
// owner writes `alive` when it frees the Parker (see the top of this file).
class ProbeBlocker final : public ParkBlocker {
 public:
  explicit ProbeBlocker(rl::var<int>* alive) : alive_(alive) {}
  void block() noexcept override {
    // acquire: pairs with interrupt()'s release exchange.
    while (signalled_.exchange(0, std::memory_order_acquire) == 0) futex_wait(&signalled_, 0);
  }
  void interrupt() noexcept override {
    // release: pairs with block()'s acquire exchange.
    signalled_.exchange(1, std::memory_order_release);
    futex_wake_one(&signalled_);
    RL_ASSERT((*alive_)($) == 1);  // the Parker (and the root) not yet freed
  }

 private:
  rl::var<int>* alive_;
  weft::atomic<uint32_t> signalled_{0};
};

// The owner runs the root each time it finds it ready, and returns once the
// root completed -- destroying the root, then the Parker (the order every
// owner declares them in). It parks on the Parker's futex, or, with
// kInBlocker, in a ProbeBlocker (park_in), where a waker's unpark() calls
// interrupt(). Storage outlives the objects so that a late touch
// is reported, not undefined.
//
// The task state machine is not under test here (another model's job), so
// `state` stands in for it with what schedule() relies on: a waker calls
// schedule() only after it moved the task from idle to scheduled; a run
// makes it idle again when it starts; it completes (and no later wake
// schedules it) once it has seen every waker's signal.
template <class Derived, unsigned Wakers, bool kInBlocker>
struct RootModel : rl::test_suite<Derived, Wakers + 1> {
  static constexpr int kIdle = 0, kScheduled = 1, kCompleted = 2;  // bits

  alignas(Parker) unsigned char parker_mem[sizeof(Parker)];
  alignas(ModelRoot) unsigned char root_mem[sizeof(ModelRoot)];
  Parker* parker = nullptr;
  ModelRoot* root = nullptr;
  weft::atomic<int> state{kScheduled};
  weft::atomic<bool> signalled[Wakers + 1];
  rl::var<int> result[Wakers + 1];
  rl::var<int> alive;  // 1 while the Parker and the root live
  ProbeBlocker blocker{&alive};

  void before() {
    parker = new (parker_mem) Parker;
    root = new (root_mem) ModelRoot(parker);
    alive($) = 1;
  }

  void thread(unsigned id) {
    if (id == 0) {
      own();
    } else {
      result[id]($) = int(id);
      // release: pairs with the owner's acquire load (the result).
      signalled[id].store(true, std::memory_order_release);
      // The wake is a read-modify-write of the state word, as the real one
      // is, so a wake coalesced with a pending one is still seen by the run
      // that follows. acq_rel: pairs with the owner's CASes.
      if (state.fetch_or(kScheduled, std::memory_order_acq_rel) == kIdle) {
        root->schedule(nullptr);  // we moved it idle -> scheduled
      }
    }
  }

  void own() {
    for (;;) {
      while (!root->ready()) {
        if (kInBlocker) {
          parker->park_in(blocker);
        } else {
          parker->park();
        }
      }
      RL_ASSERT(root->take_ready());
      // The run starts: scheduled -> idle. acq_rel: as above.
      int expected = kScheduled;
      RL_ASSERT(state.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel,
                                              std::memory_order_acquire));
      bool all = true;
      for (unsigned w = 1; w <= Wakers; ++w) {
        // acquire: pairs with the waker's release store.
        all = all && signalled[w].load(std::memory_order_acquire);
      }
      if (!all) continue;  // the task waits again (it is idle)
      expected = kIdle;
      if (state.compare_exchange_strong(expected, kCompleted, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        break;
      }
      // Woken during the run: the schedule() in flight makes it ready.
    }
    for (unsigned w = 1; w <= Wakers; ++w) RL_ASSERT(result[w]($) == int(w));
    root->~ModelRoot();  // waits for schedule() calls in flight
    parker->~Parker();
    alive($) = 0;  // the free, as a write Relacy can see race
  }
};

struct OneWaker : RootModel<OneWaker, 1, false> {};
struct OneWakerInBlocker : RootModel<OneWakerInBlocker, 1, true> {};
struct TwoWakers : RootModel<TwoWakers, 2, false> {};
struct TwoWakersInBlocker : RootModel<TwoWakersInBlocker, 2, true> {};

TEST_CASE("model: a root's owner never frees it under a waker (one waker)") {
  CHECK(model::check<OneWaker>({rl::sched_bound, 2}));
}

TEST_CASE("model: a root's owner frees it only after the waker's last touch") {
  CHECK(model::check<OneWakerInBlocker>({rl::sched_bound, 2}));
}

TEST_CASE("model: a root's owner never frees it under a waker (two wakers)") {
  CHECK(model::check<TwoWakers>({rl::sched_bound, 1}));
  CHECK(model::check<TwoWakersInBlocker>({rl::sched_bound, 1}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<TwoWakers>({rl::sched_random, 0, 100000}));
  CHECK(model::check<TwoWakersInBlocker>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model (deep): a root's owner with two wakers at bound 2", "[.deep]") {
  CHECK(model::check<TwoWakers>({rl::sched_bound, 2}));
  CHECK(model::check<TwoWakersInBlocker>({rl::sched_bound, 2}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
