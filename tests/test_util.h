// Test helpers: a manual wake source and lifetime counters.
#ifndef WEFT_TESTS_TEST_UTIL_H_
#define WEFT_TESTS_TEST_UTIL_H_

#include <atomic>
#include <coroutine>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "executor/task.h"
#include "executor/atomic_waker.h"
#include "executor/waker.h"

namespace weft_test {

// A one-shot gate: tasks that await it suspend until open() is called (from
// any thread). A leaf awaiter written the way reactor and channel code does.
class Gate {
 public:
  struct Awaiter {
    Gate* gate;
    bool await_ready() const {
      std::lock_guard<std::mutex> l(gate->mu_);
      return gate->open_;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      std::lock_guard<std::mutex> l(gate->mu_);
      if (gate->open_) return false;
      gate->waiters_.push_back(weft::current_waker(h));
      return true;
    }
    void await_resume() const noexcept {}
  };
  Awaiter operator co_await() noexcept { return Awaiter{this}; }

  void open() {
    std::vector<weft::Waker> ws;
    {
      std::lock_guard<std::mutex> l(mu_);
      open_ = true;
      ws.swap(waiters_);
    }
    for (auto& w : ws) std::move(w).wake();  // wake after unlocking
  }
  size_t waiting() {
    std::lock_guard<std::mutex> l(mu_);
    return waiters_.size();
  }

 private:
  std::mutex mu_;
  bool open_ = false;
  std::vector<weft::Waker> waiters_;
};

// Counts how many objects of a kind exist; put one in a coroutine frame to
// count frame destructions.
struct Counted {
  explicit Counted(std::atomic<int>* live, std::atomic<int>* destroyed = nullptr)
      : live_(live), destroyed_(destroyed) {
    live_->fetch_add(1, std::memory_order_relaxed);
  }
  Counted(const Counted&) = delete;
  ~Counted() {
    live_->fetch_sub(1, std::memory_order_relaxed);
    if (destroyed_) destroyed_->fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<int>* live_;
  std::atomic<int>* destroyed_;
};

// A leaf awaiter that suspends and hands its waker to a slot (no lock): the
// test decides when and from where to wake.
// Any number of tasks may await one slot (each registration replaces the
// previous one, which is dropped), unlike an AtomicWaker's single owner.
struct WakerSlot {
  WakerSlot() = default;
  WakerSlot(const WakerSlot&) = delete;
  struct Awaiter {
    WakerSlot* slot;
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      weft::Waker w = weft::current_waker(h);
      std::lock_guard<std::mutex> l(slot->mu);
      std::swap(slot->waker, w);  // the replaced one is dropped after unlock
    }
    void await_resume() const noexcept {}
  };
  Awaiter operator co_await() noexcept { return Awaiter{this}; }
  // The stored waker, or an empty one if none is stored yet.
  weft::Waker take() {
    std::lock_guard<std::mutex> l(mu);
    return std::exchange(waker, weft::Waker());
  }

  std::mutex mu;
  weft::Waker waker;  // guarded by mu
};

}  // namespace weft_test

#endif  // WEFT_TESTS_TEST_UTIL_H_
