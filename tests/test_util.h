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
struct WakerSlot {
  WakerSlot() = default;
  WakerSlot(const WakerSlot&) = delete;
  weft::AtomicWaker waker;  // drops a waker still stored when it goes
  struct Awaiter {
    WakerSlot* slot;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      // Replaces (and drops) a waker nobody took. False: a take() overlapped
      // the registration, which counts as the wake (don't suspend).
      return slot->waker.register_waker(weft::current_waker(h));
    }
    void await_resume() const noexcept {}
  };
  Awaiter operator co_await() noexcept { return Awaiter{this}; }
  // The stored waker, or an empty one if none is stored yet.
  weft::Waker take() { return waker.take(); }
};

}  // namespace weft_test

#endif  // WEFT_TESTS_TEST_UTIL_H_
