// Models of the Parker (executor/parker.*): an unpark is never lost, and it
// publishes the unparker's writes to the thread it wakes.
#include <catch2/catch.hpp>

#include "executor/model/model.h"
#include "executor/parker.h"
#include "executor/futex.h"

namespace weft {
namespace detail {
namespace {

// One park() against one unpark(), in either order. park() returns only
// after an unpark (this implementation never returns spuriously from
// park(); a lost unpark shows as a deadlock), and the data written before
// unpark() is visible after park() (rl::var reports a race otherwise).
struct ParkOnce : rl::test_suite<ParkOnce, 2> {
  Parker parker;
  rl::var<int> data;

  void thread(unsigned id) {
    if (id == 0) {
      parker.park();
      RL_ASSERT(data($) == 42);
    } else {
      data($) = 42;
      parker.unpark();
    }
  }
};

// Ping-pong on two Parkers: each side parks and unparks, so a permit left
// over or consumed twice would hang or break the hand-off.
struct PingPong : rl::test_suite<PingPong, 2> {
  Parker parker[2];
  rl::var<int> turn;

  void before() { turn($) = 0; }
  void thread(unsigned id) {
    if (id == 0) {
      turn($) = 1;
      parker[1].unpark();
      parker[0].park();
      RL_ASSERT(turn($) == 2);
      turn($) = 3;
      parker[1].unpark();
    } else {
      parker[1].park();
      RL_ASSERT(turn($) == 1);
      turn($) = 2;
      parker[0].unpark();
      parker[1].park();
      RL_ASSERT(turn($) == 3);
    }
  }
};

// A ParkBlocker like the reactor's (epoll_wait woken through an eventfd):
// block() returns once interrupt() was called, consuming that interrupt.
class ModelBlocker final : public ParkBlocker {
 public:
  void block() noexcept override {
    // acquire: pairs with interrupt()'s release exchange.
    while (signalled_.exchange(0, std::memory_order_acquire) == 0) futex_wait(&signalled_, 0);
  }
  void interrupt() noexcept override {
    // release: pairs with block()'s acquire exchange.
    signalled_.exchange(1, std::memory_order_release);
    futex_wake_one(&signalled_);
  }

 private:
  weft::atomic<uint32_t> signalled_{0};
};

// park_in(): an unpark before, during or after the owner enters its blocker
// ends the park, and publishes the unparker's writes.
struct ParkInBlocker : rl::test_suite<ParkInBlocker, 2> {
  Parker parker;
  ModelBlocker blocker;
  rl::var<int> data;

  void thread(unsigned id) {
    if (id == 0) {
      parker.park_in(blocker);
      RL_ASSERT(data($) == 42);
    } else {
      data($) = 42;
      parker.unpark();
    }
  }
};

TEST_CASE("model: Parker park/unpark loses no wake-up and publishes writes") {
  CHECK(model::check<ParkOnce>({}));
  CHECK(model::check<PingPong>({rl::sched_bound, 2}));
}

TEST_CASE("model: Parker park_in is interrupted by unpark") {
  CHECK(model::check<ParkInBlocker>({}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
