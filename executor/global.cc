#include "executor/global.h"

#include <pthread.h>

#include <coroutine>
#include <cstdlib>
#include <string>
#include <thread>

namespace weft {
namespace {

// The worker threads' main task: never completes, so they serve forever.
Task<void> serve_forever() { co_await std::suspend_always{}; }

unsigned thread_count() {
  if (const char* env = std::getenv("WEFT_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n <= 1024) return static_cast<unsigned>(n);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

Executor* start_global() {
  // Leaked on purpose: detached workers use it until the process exits.
  auto* ex = new Executor();
  unsigned n = thread_count();
  for (unsigned i = 0; i < n; ++i) {
    std::thread t([ex] { ex->run(serve_forever()); });
    std::string name = "weft-worker-" + std::to_string(i);
    pthread_setname_np(t.native_handle(), name.c_str());
    t.detach();
  }
  return ex;
}

}  // namespace

Executor& global_executor() {
  static Executor* ex = start_global();
  return *ex;
}

}  // namespace weft
