// Models of the task state machine (executor/task_state.cc): wake vs run vs
// cancel vs join vs drop of the last reference, on real tasks.
//
// The task is a real weft::Task<int> coroutine made a root with make_root
// (task.h), run by the real run_task, woken by real Wakers (current_waker)
// through a real AtomicWaker leaf, joined and cancelled through the real
// join_register / join_finished / handle_cancel / handle_release. Only the
// executor is a stand-in: ModelQueue, a Scheduler whose run queue is a
// Relacy mutex and an array, and a runner thread that pops, calls run_task,
// and pushes again on kReschedule (the steps of ExecutorCore's loop).
//
// Promises checked:
// - never run twice at once, and a run sees the previous run's writes: the
//   body writes an rl::var on every run (Relacy reports a data race
//   otherwise);
// - a wake during a run is not lost: the task runs again (a lost wake leaves
//   the runner spinning on an empty queue: Relacy's livelock);
// - a stale Waker (from an earlier suspension) does not resume a later one
//   (the run generation): the body asserts it was resumed by its own event;
// - the frame is destroyed exactly once (a frame-owned parameter counts its
//   destruction), task_done() is called once, and the header is freed
//   exactly once after the last reference (Relacy's memory leak / double
//   free / access to freed memory on the header's atomics);
// - join sees the output or the cancellation exactly once, and the output
//   is the task's.
#include <catch2/catch.hpp>

#include <coroutine>
#include <new>
#include <utility>

#include "executor/atomic_waker.h"
#include "executor/model/model.h"
#include "executor/model/stand_in.h"
#include "executor/task.h"
#include "executor/task_header.h"

namespace weft {
namespace detail {
namespace {

// The executor stand-in: a run queue and a done count.
struct ModelQueue final : Scheduler {
  weft::mutex mu;
  TaskHeader* items[4] = {};
  int n = 0;  // guarded by mu
  weft::atomic<int> done{0};

  void schedule(TaskHeader* h) noexcept override {
    mu.lock();
    RL_ASSERT(n < 4);
    items[n++] = h;
    mu.unlock();
  }
  TaskHeader* pop() {
    mu.lock();
    TaskHeader* h = n > 0 ? items[--n] : nullptr;
    mu.unlock();
    return h;
  }
  void task_done(TaskHeader*) noexcept override {
    // release: pairs with the runner's acquire load (it stops).
    done.fetch_add(1, std::memory_order_release);
  }
  bool finished() const {
    // acquire: pairs with task_done's release.
    return done.load(std::memory_order_acquire) != 0;
  }
  // The worker loop: run the queue until the task is done.
  void run_until_done() {
    while (!finished()) {
      TaskHeader* h = pop();
      if (!h) {
        weft::spin_yield();
        continue;
      }
      if (run_task(h) == RunResult::kReschedule) schedule(h);
    }
  }
};

// Counts how often the frame it lives in is destroyed.
struct Probe {
  weft::atomic<int>* count;
  explicit Probe(weft::atomic<int>* c) : count(c) {}
  Probe(Probe&& o) noexcept : count(std::exchange(o.count, nullptr)) {}
  ~Probe() {
    // relaxed: read after every thread finished.
    if (count) count->fetch_add(1, std::memory_order_relaxed);
  }
};

// A one-shot event with an AtomicWaker, as a timer or blocking job is.
struct Event {
  AtomicWaker slot;
  rl::var<int> data;

  void fire() {
    data($) = 1;
    slot.close().wake();  // close publishes data
  }
};

// The leaf await of an Event: registers the task's Waker; a cancelled
// await withdraws it (the destructor runs when the frame is destroyed).
struct AwaitEvent {
  Event* e;
  bool await_ready() const noexcept { return e->slot.closed(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return e->slot.register_waker(current_waker(h));
  }
  void await_resume() const noexcept {}
  ~AwaitEvent() { e->slot.withdraw(); }
};

// Shared by the models: a task awaiting one event, and its counters.
struct TaskWorld {
  ModelQueue q;
  Event ev;
  rl::var<int> runs;  // written by every run of the body
  weft::atomic<int> frames{0};
  TaskHeader* h = nullptr;
  int outputs = 0, cancels = 0;  // what join saw (handle thread only)

  static Task<int> body(TaskWorld* w, Probe) {
    w->runs($) = w->runs($) + 1;
    while (!w->ev.slot.closed()) {
      co_await AwaitEvent{&w->ev};
      w->runs($) = w->runs($) + 1;
    }
    RL_ASSERT(w->ev.data($) == 1);  // the event's write, published by close
    co_return 7;
  }

  void start() {
    runs($) = 0;
    h = make_root(body(this, Probe(&frames)), &q, state::kNewRoot);
    q.schedule(h);  // a spawn pushes it
  }

  // The handle's join: register a joiner's Waker; when refused or woken the
  // task finished; take its output or see its cancellation, once.
  void join(StandIn& j) {
    if (join_register(h, j.waker())) {
      while (!j.was_woken()) weft::spin_yield();
    }
    RL_ASSERT(join_finished(h));
    if (h->has_output) {
      RL_ASSERT(promise_of<int>(h).take() == 7);
      ++outputs;
    } else {
      ++cancels;
    }
  }

  void check_end() {
    RL_ASSERT(q.done.load(std::memory_order_relaxed) == 1);  // relaxed: threads joined
    RL_ASSERT(frames.load(std::memory_order_relaxed) == 1);  // relaxed: threads joined
  }
};

// Runner vs the event (wake, possibly during the run that registered it) vs
// the handle, in one of its roles.
enum class Handle { kJoin, kCancelThenJoin, kDrop, kDetach };

template <class Derived, Handle kRole>
struct RunWakeHandle : rl::test_suite<Derived, 3> {
  TaskWorld w;
  StandIn j;

  void before() {
    w.start();
    j.make();
  }
  void thread(unsigned id) {
    if (id == 0) {
      w.q.run_until_done();
    } else if (id == 1) {
      w.ev.fire();
    } else {
      switch (kRole) {
        case Handle::kJoin:
          w.join(j);
          handle_release(w.h, /*detach=*/false);
          break;
        case Handle::kCancelThenJoin:
          handle_cancel(w.h);
          w.join(j);
          handle_release(w.h, /*detach=*/false);
          break;
        case Handle::kDrop:
          handle_release(w.h, /*detach=*/false);  // cancels unless finished
          break;
        case Handle::kDetach:
          handle_release(w.h, /*detach=*/true);
          break;
      }
    }
  }
  void after() {
    w.check_end();
    if (kRole == Handle::kJoin) RL_ASSERT(w.outputs == 1 && w.cancels == 0);
    if (kRole == Handle::kCancelThenJoin) RL_ASSERT(w.outputs + w.cancels == 1);
    j.drop();
  }
};

struct Join : RunWakeHandle<Join, Handle::kJoin> {};
struct CancelThenJoin : RunWakeHandle<CancelThenJoin, Handle::kCancelThenJoin> {};
struct Drop : RunWakeHandle<Drop, Handle::kDrop> {};
struct Detach : RunWakeHandle<Detach, Handle::kDetach> {};

// Two threads, exhaustive up to the bound: the runner vs the event, the
// handle joining in after().
struct RunVsWake : rl::test_suite<RunVsWake, 2> {
  TaskWorld w;
  StandIn j;

  void before() {
    w.start();
    j.make();
  }
  void thread(unsigned id) {
    if (id == 0) {
      w.q.run_until_done();
    } else {
      w.ev.fire();
    }
  }
  void after() {
    w.join(j);
    handle_release(w.h, /*detach=*/false);
    w.check_end();
    RL_ASSERT(w.outputs == 1);
    j.drop();
  }
};

// Stale Wakers: the task suspends twice, publishing a Waker each time; the
// waker thread keeps a copy of the first and wakes it again once the second
// suspension is published. The generation makes that a no-op: the second
// await must be resumed by its own wake only.
//
// With kSelfWake (a smaller scenario, for a deeper bound in seconds), the
// first suspension is resumed by the task itself: its await_suspend wakes
// the Waker it just took (a wake during the run: it runs again), and the
// waker thread only waits for the second suspension, then wakes the first
// one's Waker (stale) and the second's.
template <class Derived, bool kSelfWake>
struct StaleModel : rl::test_suite<Derived, 2> {
  ModelQueue q;
  rl::var<int> runs;
  weft::atomic<int> frames{0};
  TaskHeader* h = nullptr;
  Waker kept[2];
  weft::atomic<bool> published[2];
  weft::atomic<bool> woken[2];

  // Hands the task's Waker to the waker thread (during the run).
  struct Hand {
    StaleModel* m;
    int k;
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> hd) {
      m->kept[k] = current_waker(hd);
      if (kSelfWake && k == 0) {
        // relaxed: our own thread reads it when resumed.
        m->woken[0].store(true, std::memory_order_relaxed);
        Waker(m->kept[0]).wake();  // a copy: kept[0] stays for the stale wake
      }
      // release: pairs with the waker thread's acquire load (kept[k]).
      m->published[k].store(true, std::memory_order_release);
    }
    void await_resume() const noexcept {}
  };

  static Task<int> body(StaleModel* m, Probe) {
    m->runs($) = m->runs($) + 1;
    co_await Hand{m, 0};
    // relaxed: the wake that resumed us published it (run_task's acquire).
    RL_ASSERT(m->woken[0].load(std::memory_order_relaxed));
    m->runs($) = m->runs($) + 1;
    co_await Hand{m, 1};
    RL_ASSERT(m->woken[1].load(std::memory_order_relaxed));  // not the stale one
    co_return 7;
  }

  void before() {
    runs($) = 0;
    h = make_root(body(this, Probe(&frames)), &q, state::kNewRoot);
    q.schedule(h);
  }
  void thread(unsigned id) {
    if (id == 0) {
      q.run_until_done();
      return;
    }
    Waker stale;
    if (!kSelfWake) {
      // acquire: pairs with Hand's release store.
      while (!published[0].load(std::memory_order_acquire)) weft::spin_yield();
      stale = kept[0];
      woken[0].store(true, std::memory_order_relaxed);  // relaxed: the wake publishes
      std::move(kept[0]).wake();
    }
    // acquire: pairs with Hand's release store.
    while (!published[1].load(std::memory_order_acquire)) weft::spin_yield();
    if (kSelfWake) stale = std::move(kept[0]);  // published with kept[1]
    std::move(stale).wake();  // an earlier suspension's: must do nothing
    woken[1].store(true, std::memory_order_relaxed);  // relaxed: the wake publishes
    std::move(kept[1]).wake();
  }
  void after() {
    RL_ASSERT(join_finished(h) && h->has_output);
    RL_ASSERT(promise_of<int>(h).take() == 7);
    handle_release(h, /*detach=*/false);
    RL_ASSERT(frames.load(std::memory_order_relaxed) == 1);  // relaxed: threads joined
    RL_ASSERT(q.done.load(std::memory_order_relaxed) == 1);  // relaxed: threads joined
  }
};

struct Stale : StaleModel<Stale, false> {};
struct StaleSelfWake : StaleModel<StaleSelfWake, true> {};

TEST_CASE("model: task run vs wake (join after)") {
  CHECK(model::check<RunVsWake>({rl::sched_bound, 3}));
}

TEST_CASE("model: task stale Waker vs a later suspension") {
  CHECK(model::check<Stale>({rl::sched_bound, 1}));
}

TEST_CASE("model: task stale Waker vs a later suspension (the first self-woken)") {
  CHECK(model::check<StaleSelfWake>({rl::sched_bound, 2}));
}

TEST_CASE("model (deep): task stale Waker vs a later suspension at bound 2", "[.deep]") {
  CHECK(model::check<Stale>({rl::sched_bound, 2}));
}

TEST_CASE("model (deep): task run vs wake vs the handle at bound 2", "[.deep]") {
  CHECK(model::check<Join>({rl::sched_bound, 2}));
  CHECK(model::check<CancelThenJoin>({rl::sched_bound, 2}));
  CHECK(model::check<Drop>({rl::sched_bound, 2}));
  CHECK(model::check<Detach>({rl::sched_bound, 2}));
}

TEST_CASE("model: task run vs wake vs join") {
  CHECK(model::check<Join>({rl::sched_bound, 1}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<Join>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model: task run vs wake vs cancel then join") {
  CHECK(model::check<CancelThenJoin>({rl::sched_bound, 1}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<CancelThenJoin>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model: task run vs wake vs drop of the handle") {
  CHECK(model::check<Drop>({rl::sched_bound, 1}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<Drop>({rl::sched_random, 0, 100000}));
}

TEST_CASE("model: task run vs wake vs detach") {
  CHECK(model::check<Detach>({rl::sched_bound, 1}));
  // Schedules with more preemptions than the bound, sampled.
  CHECK(model::check<Detach>({rl::sched_random, 0, 100000}));
}

}  // namespace
}  // namespace detail
}  // namespace weft
