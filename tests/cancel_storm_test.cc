// Stress (issue #9): spawn, cancel and wake storms at once, across threads
// that join and leave the Executor. Tasks wait on an Event or a short timer;
// a foreign thread notifies the Event without pause; another foreign thread
// cancels tasks by dropping their handles while they may be waking, running
// or finishing; two visitor threads join the Executor for a moment and leave.
// Every task's frame must be destroyed exactly once, every task either
// finishes or is cancelled (never both), and nothing may hang or race (the
// test runs under TSan and ASan in CI, several runs each).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.h"
#include "weft.h"

using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kRounds = 150;
#else
constexpr int kRounds = 300;
#endif
constexpr int kTasksPerRound = 64;

struct Counts {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> frames_destroyed{0};
};

// A coroutine parameter: the frame's own copy counts the frame's
// destruction, whether or not the task ever ran (moved-from copies do not).
struct FrameGuard {
  Counts* c;
  explicit FrameGuard(Counts* counts) : c(counts) {}
  FrameGuard(FrameGuard&& o) noexcept : c(std::exchange(o.c, nullptr)) {}
  ~FrameGuard() {
    // relaxed: read after every thread is joined and the Executor is gone.
    if (c) c->frames_destroyed.fetch_add(1, std::memory_order_relaxed);
  }
};

weft::Task<void> waiter(FrameGuard guard, weft::Event* ev, int kind) {
  Counts* c = guard.c;
  // relaxed: a statistic, read after joins.
  c->started.fetch_add(1, std::memory_order_relaxed);
  if (kind == 0) {
    co_await ev->wait();
  } else if (kind == 1) {
    co_await weft::sleep_for(std::chrono::microseconds(50 * kind));
  } else {
    co_await weft::yield_now();
    co_await ev->wait();
  }
  // relaxed: as above.
  c->finished.fetch_add(1, std::memory_order_relaxed);
}

// Handles passed from the root to the canceller thread.
struct Mailbox {
  std::mutex mu;
  std::vector<weft::JoinHandle<void>> handles;
};

}  // namespace

TEST_CASE("spawn, cancel and wake storms while threads join and leave the Executor",
          "[executor][stress]") {
  Counts counts;
  weft::Event ev;  // outlives the Executor: no waiter can outlive it
  Mailbox mailbox;
  std::atomic<bool> stop{false};
  int spawned = 0;
  int awaited_ok = 0;
  int awaited_cancelled = 0;
  {
    weft::Executor ex;
    std::vector<std::thread> threads;
    // The waker: notifies without pause, so wakes race cancellations.
    threads.emplace_back([&] {
      // acquire: pairs with the release store of `stop` below.
      while (!stop.load(std::memory_order_acquire)) {
        ev.notify_all();
        ev.notify_one();
        std::this_thread::yield();
      }
    });
    // The canceller: drops handles from a foreign thread.
    threads.emplace_back([&] {
      for (;;) {
        std::vector<weft::JoinHandle<void>> batch;
        {
          std::lock_guard<std::mutex> lock(mailbox.mu);
          batch.swap(mailbox.handles);
        }
        batch.clear();  // cancels every task that has not finished
        // acquire: pairs with the release store of `stop` below; the
        // mailbox is drained once more after it.
        if (stop.load(std::memory_order_acquire)) {
          std::lock_guard<std::mutex> lock(mailbox.mu);
          if (mailbox.handles.empty()) return;
        }
        std::this_thread::yield();
      }
    });
    // Two visitors join the Executor for a few yields and leave, again and again.
    for (int v = 0; v < 2; ++v) {
      threads.emplace_back([&] {
        // acquire: as for the waker.
        while (!stop.load(std::memory_order_acquire)) {
          ex.run([]() -> weft::Task<void> {
            for (int i = 0; i < 20; ++i) co_await weft::yield_now();
          }());
        }
      });
    }

    ex.run([&]() -> weft::Task<void> {
      std::mt19937 rng(12345);
      for (int round = 0; round < kRounds; ++round) {
        std::vector<weft::JoinHandle<void>> keep;
        std::vector<weft::JoinHandle<void>> give;
        for (int i = 0; i < kTasksPerRound; ++i) {
          auto h = ex.spawn(waiter(FrameGuard(&counts), &ev, static_cast<int>(rng() % 3)));
          ++spawned;
          switch (rng() % 4) {
            case 0:  // cancelled here, at once, perhaps before it ever ran
              break;
            case 1:  // cancelled by the foreign thread, at some point
              give.push_back(std::move(h));
              break;
            default:  // awaited below; it may still be cancelled by nobody
              keep.push_back(std::move(h));
              break;
          }
        }
        {
          std::lock_guard<std::mutex> lock(mailbox.mu);
          for (auto& h : give) mailbox.handles.push_back(std::move(h));
        }
        for (auto& h : keep) {
          try {
            co_await h;
            ++awaited_ok;
          } catch (const weft::TaskCancelled&) {
            ++awaited_cancelled;  // nobody cancels these: counted, then checked
          }
        }
      }
    }());
    // release: pairs with the acquire loads in the threads' loops.
    stop.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
  }  // ~Executor: destroys any task still suspended (given away, then cancelled)

  INFO("spawned " << spawned << ", started " << counts.started << ", finished "
                  << counts.finished << ", frames destroyed " << counts.frames_destroyed);
  CHECK(counts.frames_destroyed == spawned);  // each frame exactly once
  CHECK(counts.started <= spawned);
  CHECK(counts.finished <= counts.started);
  CHECK(awaited_cancelled == 0);  // only their owners could have cancelled them
  CHECK(awaited_ok > 0);
}
