// model.h: runs a Relacy model of an executor protocol from a Catch2 test.
//
// A model is a Relacy test_suite (see MODEL_CHECKING.md, "Adding a model")
// that drives the real executor code, compiled with -DWEFT_RELACY so that
// its weft::atomic / weft::mutex / futex are Relacy's. check<Model>(search)
// explores it with the given scheduler and returns whether every explored
// execution kept the model's promise (its RL_ASSERTs held, no data race on
// an rl::var, no deadlock, no livelock, no access to a destroyed atomic).
// A failing run prints the offending interleaving, operation by operation,
// with the file and line of each atomic access.
//
// The search can be changed without rebuilding, through the environment
// (bazel test --test_env=...):
//   WEFT_MODEL_SCHEDULER   full | bound | random
//   WEFT_MODEL_BOUND       preemptions allowed by the context-bound scheduler
//   WEFT_MODEL_ITERATIONS  executions the random scheduler tries
//   WEFT_MODEL_PROGRESS    if set, Relacy's progress lines go to stderr
//                          (every 65536 executions: a long search's rate)
#ifndef WEFT_EXECUTOR_MODEL_MODEL_H_
#define WEFT_EXECUTOR_MODEL_MODEL_H_

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "executor/atomic.h"

namespace weft {
namespace model {

struct Search {
  rl::scheduler_type_e scheduler = rl::sched_full;
  unsigned context_bound = 2;            // sched_bound only
  rl::iteration_t iterations = 100000;   // sched_random only
};

// The search `defaults` as overridden by the WEFT_MODEL_* variables.
inline Search search_from_env(Search s) {
  if (const char* v = std::getenv("WEFT_MODEL_SCHEDULER")) {
    if (std::strcmp(v, "full") == 0) s.scheduler = rl::sched_full;
    else if (std::strcmp(v, "bound") == 0) s.scheduler = rl::sched_bound;
    else if (std::strcmp(v, "random") == 0) s.scheduler = rl::sched_random;
    else std::cerr << "WEFT_MODEL_SCHEDULER=" << v << " ignored (full|bound|random)\n";
  }
  if (const char* v = std::getenv("WEFT_MODEL_BOUND")) s.context_bound = std::atoi(v);
  if (const char* v = std::getenv("WEFT_MODEL_ITERATIONS")) s.iterations = std::atoll(v);
  return s;
}

// Explores Model; true if no execution broke it.
template <class Model>
bool check(Search defaults) {
  Search s = search_from_env(defaults);
  rl::test_params p;
  p.search_type = s.scheduler;
  p.context_bound = s.context_bound;
  p.iteration_count = s.iterations;
  p.output_history = false;  // a failure re-runs with history and prints it
  // Relacy's periodic "N% (done/estimate)" lines only fill the test log;
  // the context-bound scheduler has no estimate (it reports 1 as the total).
  static std::ostream no_progress(nullptr);
  p.progress_stream = std::getenv("WEFT_MODEL_PROGRESS") ? &std::cerr : &no_progress;
  const auto start = std::chrono::steady_clock::now();
  const bool ok = rl::simulate<Model>(p);
  if (ok) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::cout << "  explored " << p.stop_iteration << " executions ("
              << rl::format(s.scheduler);
    if (s.scheduler == rl::sched_bound) std::cout << ", bound " << s.context_bound;
    std::cout << ") in " << took.count() << " s\n";
  }
  return ok;
}

}  // namespace model
}  // namespace weft

#endif  // WEFT_EXECUTOR_MODEL_MODEL_H_
