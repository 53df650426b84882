// Model tasks shared by the queue models: TaskHeaders with a Relacy-visible
// payload, so a task taken twice, or taken before it was published, fails.
#ifndef WEFT_EXECUTOR_MODEL_MODEL_TASKS_H_
#define WEFT_EXECUTOR_MODEL_MODEL_TASKS_H_

#include "executor/model/model.h"
#include "executor/task_header.h"

namespace weft::detail {

// Tasks with a payload that the pushing thread sets to 1 before the push and
// the taker checks and sets to 2: a task taken twice fails the check (or
// races, if the two takers are unordered), a task never taken fails after().
template <unsigned N>
struct Tasks {
  TaskHeader items[N];
  rl::var<int> payload[N];

  void prepare(unsigned i) { payload[i]($) = 1; }
  void take(TaskHeader* t) {
    RL_ASSERT(t >= items && t < items + N);
    const auto i = t - items;
    RL_ASSERT(payload[i]($) == 1);  // published, and taken once
    payload[i]($) = 2;
  }
  void take_chain(TaskHeader* t) {
    while (t) {
      TaskHeader* next = t->next;
      take(t);
      t = next;
    }
  }
  void all_taken() {
    for (unsigned i = 0; i < N; ++i) RL_ASSERT(payload[i]($) == 2);
  }
};

}  // namespace weft::detail

#endif  // WEFT_EXECUTOR_MODEL_MODEL_TASKS_H_
