// The threads of an asio::thread_pool the program already has join a weft
// Executor, run 100,000 tasks between them, and leave cleanly.
//
// Shows: Executor owns no threads (any thread that calls run() works for
// it), spawning from outside, and a leaf awaiter written with
// weft::current_waker (StopSignal below).
#include <asio.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "weft.h"

namespace {

constexpr int kPoolThreads = 4;
constexpr int kTasks = 100'000;

// Tasks awaiting wait() suspend until set() is called, from any thread.
class StopSignal {
 public:
  struct Awaiter {
    StopSignal* s;
    bool await_ready() {
      std::lock_guard<std::mutex> l(s->mu_);
      return s->set_;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      std::lock_guard<std::mutex> l(s->mu_);
      if (s->set_) return false;  // set in between: don't suspend
      s->waiters_.push_back(weft::current_waker(h));
      return true;
    }
    void await_resume() {}
  };
  weft::Task<void> wait() { co_await Awaiter{this}; }
  void set() {
    std::vector<weft::Waker> ws;
    {
      std::lock_guard<std::mutex> l(mu_);
      set_ = true;
      ws.swap(waiters_);
    }
    for (auto& w : ws) std::move(w).wake();  // wake outside the lock
  }

 private:
  std::mutex mu_;
  bool set_ = false;
  std::vector<weft::Waker> waiters_;
};

std::mutex g_mu;
std::map<std::thread::id, int> g_ran_on;  // guarded by g_mu
thread_local int t_ran = 0;               // counted without a lock, merged at exit

weft::Task<void> work(std::atomic<int>* left) {
  ++t_ran;
  left->fetch_sub(1, std::memory_order_acq_rel);
  co_return;
}

void merge_count(const char* who) {
  std::lock_guard<std::mutex> l(g_mu);
  g_ran_on[std::this_thread::get_id()] += t_ran;
  std::printf("%s leaves after running %d tasks\n", who, t_ran);
  t_ran = 0;
}

}  // namespace

int main() {
  asio::thread_pool pool(kPoolThreads);  // the program's own pool
  weft::Executor ex;
  StopSignal stop;

  std::atomic<int> joined{0};
  for (int i = 0; i < kPoolThreads; ++i) {
    asio::post(pool, [&, i] {
      std::printf("pool thread %d joins the executor\n", i);
      joined.fetch_add(1);
      ex.run(stop.wait());  // a worker until stop is set
      char who[32];
      std::snprintf(who, sizeof who, "pool thread %d", i);
      merge_count(who);
    });
  }

  // The main thread spawns from outside, then joins too until all are done.
  std::atomic<int> left{kTasks};
  std::vector<weft::JoinHandle<void>> handles;
  handles.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) handles.push_back(ex.spawn(work(&left)));
  ex.run([&]() -> weft::Task<void> {
    for (auto& h : handles) co_await h;
  }());
  merge_count("main thread");
  stop.set();
  pool.join();  // every pool thread has left run() and returned to asio

  int total = 0;
  for (auto& [id, n] : g_ran_on) total += n;
  std::printf("%d tasks ran on %zu threads; %d left; workers now %zu\n", total,
              g_ran_on.size(), left.load(), ex.num_workers());
  return total == kTasks && left.load() == 0 ? 0 : 1;
}
