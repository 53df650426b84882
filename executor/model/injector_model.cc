// Models of the Injector (executor/injector.*): every task pushed is popped
// once, handed back by close(), or refused (push returns false and the
// pusher keeps it); a non-zero len() seen by the only consumer means its
// pop() finds a task (len_ is published with the list).
#include <catch2/catch.hpp>

#include "executor/injector.h"
#include "executor/model/model.h"
#include "executor/model/model_tasks.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {
namespace {


// `Pushers` threads push tasks (one alone, then a batch of two); the last
// thread is the only consumer: it pops while it sees a length, pops a batch,
// then closes the injector and takes what close() returns.
template <class Derived, unsigned Pushers>
struct InjectorModel : rl::test_suite<Derived, Pushers + 1> {
  Injector injector;
  Tasks<3 * Pushers> tasks;

  void thread(unsigned id) {
    if (id < Pushers) {
      const unsigned base = 3 * id;
      for (unsigned i = 0; i < 3; ++i) tasks.prepare(base + i);
      TaskHeader* one = &tasks.items[base];
      if (!injector.push(one)) tasks.take(one);  // closed: the pusher keeps it
      TaskHeader* first = &tasks.items[base + 1];
      TaskHeader* last = &tasks.items[base + 2];
      first->next = last;
      if (!injector.push_batch(first, last, 2)) tasks.take_chain(first);
    } else {
      for (int round = 0; round < 2; ++round) {
        if (!injector.is_empty()) {
          TaskHeader* t = injector.pop();
          RL_ASSERT(t != nullptr);  // the only consumer saw a length
          tasks.take(t);
        }
      }
      size_t n = 0;
      tasks.take_chain(injector.pop_batch(2, &n));
      tasks.take_chain(injector.close());
    }
  }
  void after() { tasks.all_taken(); }
};

struct OnePusher : InjectorModel<OnePusher, 1> {};
struct TwoPushers : InjectorModel<TwoPushers, 2> {};

TEST_CASE("model: Injector push/pop/close with one pusher") {
  CHECK(model::check<OnePusher>({rl::sched_bound, 2}));
}

TEST_CASE("model: Injector with two pushers") {
  CHECK(model::check<TwoPushers>({rl::sched_bound, 3}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<TwoPushers>({rl::sched_random, 0, 100000}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
