// Helpers for the tests of sync/: running on two workers, draining a
// LocalExecutor, and counting coroutine frames.
#ifndef WEFT_TESTS_SYNC_TEST_UTIL_H_
#define WEFT_TESTS_SYNC_TEST_UTIL_H_

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>

#include "test_util.h"
#include "weft.h"

namespace weft_test {

// Runs `main` on `ex` with the calling thread and one more worker thread,
// which parks whenever there is nothing to run.
template <class T>
T run_on_two_workers(weft::Executor& ex, weft::Task<T> main) {
  Gate finished;
  std::thread second([&] {
    ex.run([](Gate& finished) -> weft::Task<void> { co_await finished; }(finished));
  });
  struct Join {
    Gate& finished;
    std::thread& t;
    ~Join() {
      finished.open();
      t.join();
    }
  } join{finished, second};
  return ex.run(std::move(main));
}

// Runs `ex` until nothing is runnable.
inline void drain(weft::LocalExecutor& ex) {
  while (ex.try_tick()) {
  }
}

// Lives in a coroutine frame as a parameter, so it is destroyed with the
// frame even when the body never started: counts frames still alive.
class FrameToken {
 public:
  explicit FrameToken(std::atomic<int>* live) : live_(live) {
    live_->fetch_add(1, std::memory_order_relaxed);
  }
  FrameToken(FrameToken&& o) noexcept : live_(std::exchange(o.live_, nullptr)) {}
  ~FrameToken() {
    // release: pairs with the acquire load of whoever waits for zero.
    if (live_) live_->fetch_sub(1, std::memory_order_release);
  }

 private:
  std::atomic<int>* live_;
};

// Waits (yielding the thread) until `live` is zero. acquire: pairs with
// FrameToken's release decrement.
inline void wait_frames_gone(const std::atomic<int>& live) {
  while (live.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

// A check for threads other than the test's own: Catch2's assertions are
// not thread-safe, so a failure there aborts with a message instead.
inline void must(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test failure on a helper thread: %s\n", what);
    std::abort();
  }
}

// A short busy wait of about `n` loop turns, to shift the timing of a race.
inline void spin(uint32_t n) {
  for (; n > 0; --n) std::atomic_signal_fence(std::memory_order_seq_cst);  // keeps the loop
}

}  // namespace weft_test

#endif  // WEFT_TESTS_SYNC_TEST_UTIL_H_
