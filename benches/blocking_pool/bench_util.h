// Shared bits of the blocking-pool benchmarks: the JSON line, the
// command-line flags, worker pools for weft and Asio, and a completion
// counter. Kept inside benches/blocking_pool/ so this package adds to
// benches/ without touching the files of the executor suite.
#ifndef WEFT_BENCHES_BLOCKING_POOL_BENCH_UTIL_H_
#define WEFT_BENCHES_BLOCKING_POOL_BENCH_UTIL_H_

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "weft.h"

namespace weft_bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One JSON line in the format of benches/executor_bench.cc, plus `extra`
// (already formatted `,"key":value` pairs).
inline void report(const char* peer, const char* workload, int threads, uint64_t iters,
                   double seconds, const std::string& extra = "") {
  std::printf(
      "{\"peer\":\"%s\",\"workload\":\"%s\",\"threads\":%d,\"iters\":%llu,"
      "\"seconds\":%.4f,\"per_op_ns\":%.1f%s}\n",
      peer, workload, threads, static_cast<unsigned long long>(iters), seconds,
      seconds * 1e9 / static_cast<double>(iters), extra.c_str());
  std::fflush(stdout);
}

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "bench: %s\n", what);
  std::abort();
}

// Counts arrivals; wait() returns after the expected-th.
class Completion {
 public:
  explicit Completion(uint64_t expected) : expected_(expected) {}
  void arrive() {
    // acq_rel: publishes this arrival's writes to the last arriver, which
    // passes them on through the release store below.
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == expected_) {
      done_.store(true, std::memory_order_release);  // pairs with wait()
      done_.notify_all();
    }
  }
  void wait() {
    while (!done_.load(std::memory_order_acquire)) done_.wait(false, std::memory_order_acquire);
    // acquire: pairs with the acq_rel fetch_add.
    if (count_.load(std::memory_order_acquire) != expected_) fail("completion count is off");
  }

 private:
  std::atomic<uint64_t> count_{0};
  const uint64_t expected_;
  std::atomic<bool> done_{false};
};

// A one-shot event weft tasks can await.
class StopSignal {
 public:
  struct Awaiter {
    StopSignal* s;
    bool await_ready() {
      std::lock_guard<std::mutex> l(s->mu_);
      return s->fired_;
    }
    template <weft::detail::WeftPromise P>
    bool await_suspend(std::coroutine_handle<P> h) {
      std::lock_guard<std::mutex> l(s->mu_);
      if (s->fired_) return false;
      s->waiters_.push_back(weft::current_waker(h));
      return true;
    }
    void await_resume() {}
  };
  Awaiter operator co_await() { return Awaiter{this}; }
  void fire() {
    std::vector<weft::Waker> ws;
    {
      std::lock_guard<std::mutex> l(mu_);
      fired_ = true;
      ws.swap(waiters_);
    }
    for (auto& w : ws) std::move(w).wake();
  }

 private:
  std::mutex mu_;
  bool fired_ = false;                // guarded by mu_
  std::vector<weft::Waker> waiters_;  // guarded by mu_
};

// An Executor served by N threads until destroyed.
class WeftWorkers {
 public:
  explicit WeftWorkers(int n) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        ex_.run([](StopSignal* s) -> weft::Task<void> { co_await *s; }(&stop_));
      });
    }
    while (ex_.num_workers() < static_cast<size_t>(n)) std::this_thread::yield();
  }
  ~WeftWorkers() {
    stop_.fire();
    for (auto& t : threads_) t.join();
  }
  weft::Executor& executor() { return ex_; }

 private:
  weft::Executor ex_;
  StopSignal stop_;
  std::vector<std::thread> threads_;
};

// An io_context run by N threads until destroyed.
class AsioWorkers {
 public:
  explicit AsioWorkers(int n) : guard_(asio::make_work_guard(io_)) {
    std::latch started(n);
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this, &started] {
        started.count_down();
        io_.run();
      });
    }
    started.wait();
  }
  ~AsioWorkers() {
    guard_.reset();
    for (auto& t : threads_) t.join();
  }
  asio::io_context& context() { return io_; }

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace weft_bench

#endif  // WEFT_BENCHES_BLOCKING_POOL_BENCH_UTIL_H_
