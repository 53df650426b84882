// WEFT_THREADS=300 (set by the BUILD rule): the global executor starts 300
// workers, more than the old fixed limit of 256, and all of them run tasks
// (issue #9, item 3).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "weft.h"

namespace {

constexpr int kThreads = 300;  // must match WEFT_THREADS in tests/BUILD.bazel
// Liveness bound for every worker to pick one of the blocking tasks.
constexpr auto kBound = std::chrono::seconds(60);

std::mutex mu;
std::condition_variable cv;
int arrived = 0;  // guarded by mu

// Blocks its worker until kThreads such tasks run at once: only possible
// when kThreads distinct workers each run one.
weft::Task<bool> meet() {
  std::unique_lock<std::mutex> l(mu);
  ++arrived;
  cv.notify_all();
  co_return cv.wait_for(l, kBound, [] { return arrived >= kThreads; });
}

}  // namespace

TEST_CASE("the global executor runs with WEFT_THREADS=300", "[executor][global]") {
  std::vector<weft::JoinHandle<bool>> hs;
  for (int i = 0; i < kThreads; ++i) hs.push_back(weft::spawn(meet()));
  int met = weft::block_on([&]() -> weft::Task<int> {
    int n = 0;
    for (auto& h : hs) n += co_await h ? 1 : 0;
    co_return n;
  }());
  CHECK(met == kThreads);
  CHECK(weft::global_executor().num_workers() == kThreads);
}
