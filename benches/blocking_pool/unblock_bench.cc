// unblock_bench: weft's blocking pool against asio::thread_pool (BENCH.md,
// workload "unblock"), both in the same process run.
//
// Usage: unblock_bench [--threads N] [unblock|unblock_rtt|all]
//   unblock      100,000 tiny closures submitted to the pool and awaited;
//                ns per job.
//   unblock_rtt  10,000 sequential round trips (submit one tiny closure,
//                await it, submit the next); ns per round trip.
// Prints one JSON line per workload and peer (see bench_util.h).
//
// Shapes, identical for both peers: N executor threads (weft: an Executor
// run by N threads; Asio: an io_context run by N threads) host the task
// that submits and awaits. The pool is the one a user gets by default:
// weft's global blocking pool (grows on demand), and a default-constructed
// asio::thread_pool (2 x hardware threads). For `unblock`, weft's task keeps
// the 100,000 handles and awaits them in order; Asio's closures store their
// result and count down a completion the submitting coroutine waits for,
// which is the cheapest way to get results back from an Asio pool. For
// `unblock_rtt` the Asio task awaits an async operation that runs the
// closure on the pool and completes on the io_context, which is how one
// writes unblock() with Asio.
#include <asio.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "benches/blocking_pool/bench_util.h"
#include "weft.h"

namespace weft_bench {
namespace {

constexpr uint64_t kJobs = 100'000;       // unblock
constexpr uint64_t kRoundTrips = 10'000;  // unblock_rtt
constexpr int kWarmupRuns = 1;

// The tiny closure: a little arithmetic the compiler cannot drop.
inline uint64_t tiny(uint64_t i) { return i * 2 + 1; }
constexpr uint64_t expected_sum(uint64_t n) { return n * n; }  // sum of 2i+1

struct Measurement {
  uint64_t iters;
  double seconds;
  std::string extra;
};

std::string pool_fields() {
  auto s = weft::BlockingPool::global().stats();
  return ",\"pool_threads_peak\":" + std::to_string(s.threads_peak) +
         ",\"pool_threads_started\":" + std::to_string(s.threads_started);
}

// ---------------------------------------------------------------- weft ----

weft::Task<void> weft_many(uint64_t* sum, Completion* done) {
  std::vector<weft::BlockingJob<uint64_t>> jobs;
  jobs.reserve(kJobs);
  for (uint64_t i = 0; i < kJobs; ++i) jobs.push_back(weft::unblock([i] { return tiny(i); }));
  uint64_t s = 0;
  for (auto& j : jobs) s += co_await j;
  *sum = s;
  done->arrive();
}

weft::Task<void> weft_rtt(uint64_t* sum, Completion* done) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < kRoundTrips; ++i) s += co_await weft::unblock([i] { return tiny(i); });
  *sum = s;
  done->arrive();
}

Measurement weft_run(int threads, weft::Task<void> (*body)(uint64_t*, Completion*), uint64_t n) {
  WeftWorkers workers(threads);
  uint64_t sum = 0;
  Completion done(1);
  auto start = Clock::now();
  workers.executor().spawn(body(&sum, &done)).detach();
  done.wait();
  double seconds = seconds_since(start);
  if (sum != expected_sum(n)) fail("weft: wrong sum");
  return {n, seconds, pool_fields()};
}

Measurement weft_unblock(int threads) { return weft_run(threads, weft_many, kJobs); }
Measurement weft_unblock_rtt(int threads) { return weft_run(threads, weft_rtt, kRoundTrips); }

// ---------------------------------------------------------------- asio ----

// Runs f() on `pool`, completes on the awaiting coroutine's executor.
template <class F>
auto run_on(asio::thread_pool& pool, F f) {
  return asio::async_initiate<const asio::use_awaitable_t<>, void(uint64_t)>(
      [&pool](auto handler, F f) {
        asio::post(pool, [f = std::move(f), h = std::move(handler)]() mutable {
          uint64_t r = f();
          auto ex = asio::get_associated_executor(h);
          asio::dispatch(ex, [h = std::move(h), r]() mutable { std::move(h)(r); });
        });
      },
      asio::use_awaitable, std::move(f));
}

Measurement asio_unblock(int threads) {
  AsioWorkers workers(threads);
  asio::thread_pool pool;
  std::vector<uint64_t> results(kJobs);
  Completion jobs_done(kJobs);
  Completion done(1);
  auto start = Clock::now();
  asio::co_spawn(
      workers.context(),
      [&]() -> asio::awaitable<void> {
        for (uint64_t i = 0; i < kJobs; ++i) {
          asio::post(pool, [&results, &jobs_done, i] {
            results[i] = tiny(i);
            jobs_done.arrive();
          });
        }
        jobs_done.wait();  // the "await": blocks this io thread, as cheap as it gets
        done.arrive();
        co_return;
      },
      asio::detached);
  done.wait();
  double seconds = seconds_since(start);
  uint64_t sum = 0;
  for (uint64_t r : results) sum += r;
  if (sum != expected_sum(kJobs)) fail("asio: wrong sum");
  pool.join();
  return {kJobs, seconds, ""};
}

Measurement asio_unblock_rtt(int threads) {
  AsioWorkers workers(threads);
  asio::thread_pool pool;
  uint64_t sum = 0;
  Completion done(1);
  auto start = Clock::now();
  asio::co_spawn(
      workers.context(),
      [&]() -> asio::awaitable<void> {
        uint64_t s = 0;
        for (uint64_t i = 0; i < kRoundTrips; ++i) {
          s += co_await run_on(pool, [i] { return tiny(i); });
        }
        sum = s;
        done.arrive();
      },
      asio::detached);
  done.wait();
  double seconds = seconds_since(start);
  if (sum != expected_sum(kRoundTrips)) fail("asio: wrong sum");
  pool.join();
  return {kRoundTrips, seconds, ""};
}

// ---------------------------------------------------------------- driver --

struct Workload {
  const char* name;
  Measurement (*weft)(int);
  Measurement (*asio)(int);
};
constexpr Workload kWorkloads[] = {
    {"unblock", weft_unblock, asio_unblock},
    {"unblock_rtt", weft_unblock_rtt, asio_unblock_rtt},
};

void run_peer(const char* peer, const char* workload, Measurement (*fn)(int), int threads) {
  for (int i = 0; i < kWarmupRuns; ++i) fn(threads);
  Measurement m = fn(threads);
  report(peer, workload, threads, m.iters, m.seconds, m.extra);
}

[[noreturn]] void usage(const char* argv0, const char* error) {
  if (error) std::fprintf(stderr, "%s: %s\n", argv0, error);
  std::fprintf(stderr, "usage: %s [--threads N] [--peer weft|asio] [all|unblock|unblock_rtt]\n",
               argv0);
  std::exit(error ? 2 : 0);
}

int main_impl(int argc, char** argv) {
  int threads = 2;
  std::string workload = "all";
  std::string only_peer;  // --peer weft|asio: one side only (for profiling)
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg.rfind("--threads=", 0) == 0) {
      threads = std::atoi(arg.c_str() + 10);
    } else if (arg == "--peer" && i + 1 < argc) {
      only_peer = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      usage(argv[0], nullptr);
    } else if (arg[0] == '-') {
      usage(argv[0], "unknown flag");
    } else {
      workload = arg;
    }
  }
  if (threads < 1 || threads > 1024) usage(argv[0], "--threads wants 1..1024");
  bool matched = false;
  for (const Workload& w : kWorkloads) {
    if (workload != "all" && workload != w.name) continue;
    matched = true;
    if (only_peer.empty() || only_peer == "weft") run_peer("weft", w.name, w.weft, threads);
    if (only_peer.empty() || only_peer == "asio") run_peer("asio", w.name, w.asio, threads);
  }
  if (!matched) usage(argv[0], "unknown workload");
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
