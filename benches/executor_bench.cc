// executor_bench: weft's Executor against standalone Asio on the executor
// workloads of BENCH.md (spawn_many, spawn_many_local, chained_spawn,
// yield_many, ping_pong), both peers in the same process run.
//
// Usage: executor_bench [--threads N] [spawn_many|spawn_many_local|
//                        chained_spawn|yield_many|ping_pong|all]
// Prints one JSON line per workload and peer:
//   {"peer":"weft","workload":"spawn_many","threads":2,"iters":100000,
//    "seconds":0.0301,"per_op_ns":301.2}
//
// Both peers run the same shape of work: N worker threads (WeftWorkers: N
// threads inside Executor::run; AsioWorkers: N threads inside
// io_context::run), tasks that end by counting themselves on a Completion,
// and a timing thread that is not a worker. A run that lost or duplicated a
// task aborts before printing (see completion.h).
#include <asio.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "benches/asio_workers.h"
#include "benches/completion.h"
#include "benches/weft_workers.h"
#include "weft.h"

namespace weft_bench {
namespace {

// Workload parameters (BENCH.md), the same for every peer.
constexpr uint64_t kSpawnManyTasks = 100'000;  // spawn_many, spawn_many_local
constexpr uint64_t kChains = 100;              // chained_spawn: chains, run one after another
constexpr uint64_t kChainDepth = 1'000;        // chained_spawn: tasks (= spawns) per chain
constexpr uint64_t kYieldTasks = 200;          // yield_many: tasks
constexpr uint64_t kYieldsPerTask = 1'000;     // yield_many: yields per task
constexpr uint64_t kRoundTrips = 100'000;      // ping_pong: round trips
constexpr size_t kPingPongCapacity = 1;        // ping_pong: each channel's buffer

// One unmeasured run of each workload on each peer before the measured one,
// so heap growth and first-touch page faults land there and not on
// whichever peer happens to run first.
constexpr int kWarmupRuns = 1;

constexpr int kDefaultThreads = 2;

using Clock = std::chrono::steady_clock;

struct Measurement {
  uint64_t iters;  // operations timed (tasks, spawns or yields)
  double seconds;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_total(const char* what, const std::atomic<uint64_t>& total, uint64_t expected) {
  // acquire: pairs with the release fetch_add of the tasks that added.
  uint64_t got = total.load(std::memory_order_acquire);
  if (got != expected) fail(what, "operation count is off", got, expected);
}

// ---------------------------------------------------------------- weft ----

weft::Task<void> weft_empty(Completion* done) {
  done->arrive();
  co_return;
}

weft::Task<void> weft_spawner(weft::Executor* ex, Completion* done) {
  for (uint64_t i = 0; i < kSpawnManyTasks; ++i) ex->spawn(weft_empty(done)).detach();
  co_return;
}

weft::Task<void> weft_chain_link(weft::Executor* ex, uint64_t remaining, Completion* links,
                                 Completion* chain_done) {
  links->arrive();
  if (remaining > 1) {
    ex->spawn(weft_chain_link(ex, remaining - 1, links, chain_done)).detach();
  } else {
    chain_done->arrive();
  }
  co_return;
}

weft::Task<void> weft_yielder(std::atomic<uint64_t>* yields, Completion* done) {
  uint64_t n = 0;
  for (uint64_t i = 0; i < kYieldsPerTask; ++i) {
    co_await weft::yield_now();
    ++n;
  }
  // release: pairs with the acquire in check_total().
  yields->fetch_add(n, std::memory_order_release);
  done->arrive();
}

// ping_pong: the pinger sends i on `ping` and waits for it to come back on
// `pong`; the ponger echoes. Both channels hold one item. Each arrives on
// `done` after its last round trip; a wrong or missing reply aborts.
weft::Task<void> weft_pinger(weft::Channel<uint64_t>* ping, weft::Channel<uint64_t>* pong,
                             Completion* done) {
  for (uint64_t i = 0; i < kRoundTrips; ++i) {
    weft::SendResult<uint64_t> sent = co_await ping->send(i);
    if (!sent.ok()) fail("weft ping_pong", "send failed", i, kRoundTrips);
    absl::StatusOr<uint64_t> back = co_await pong->recv();
    if (!back.ok() || *back != i) fail("weft ping_pong", "wrong reply", i, kRoundTrips);
  }
  done->arrive();
}

weft::Task<void> weft_ponger(weft::Channel<uint64_t>* ping, weft::Channel<uint64_t>* pong,
                             Completion* done) {
  for (uint64_t i = 0; i < kRoundTrips; ++i) {
    absl::StatusOr<uint64_t> v = co_await ping->recv();
    if (!v.ok()) fail("weft ping_pong", "recv failed", i, kRoundTrips);
    weft::SendResult<uint64_t> sent = co_await pong->send(*v);
    if (!sent.ok()) fail("weft ping_pong", "send failed", i, kRoundTrips);
  }
  done->arrive();
}

Measurement weft_spawn_many(int threads) {
  Completion done(kSpawnManyTasks, "weft spawn_many");
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    for (uint64_t i = 0; i < kSpawnManyTasks; ++i) {
      pool.executor().spawn(weft_empty(&done)).detach();
    }
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  return {kSpawnManyTasks, seconds};
}

Measurement weft_spawn_many_local(int threads) {
  Completion done(kSpawnManyTasks, "weft spawn_many_local");
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    pool.executor().spawn(weft_spawner(&pool.executor(), &done)).detach();
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  return {kSpawnManyTasks, seconds};
}

Measurement weft_chained_spawn(int threads) {
  Completion links(kChains * kChainDepth, "weft chained_spawn links");
  std::vector<std::unique_ptr<Completion>> chains;
  for (uint64_t c = 0; c < kChains; ++c) {
    chains.push_back(std::make_unique<Completion>(1, "weft chained_spawn chain"));
  }
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    for (uint64_t c = 0; c < kChains; ++c) {
      pool.executor()
          .spawn(weft_chain_link(&pool.executor(), kChainDepth, &links, chains[c].get()))
          .detach();
      chains[c]->wait();
    }
    seconds = seconds_since(start);
  }
  links.wait();
  for (auto& chain : chains) chain->check_exact();
  return {kChains * kChainDepth, seconds};
}

Measurement weft_yield_many(int threads) {
  Completion done(kYieldTasks, "weft yield_many");
  std::atomic<uint64_t> yields{0};
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    for (uint64_t i = 0; i < kYieldTasks; ++i) {
      pool.executor().spawn(weft_yielder(&yields, &done)).detach();
    }
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  check_total("weft yield_many", yields, kYieldTasks * kYieldsPerTask);
  return {kYieldTasks * kYieldsPerTask, seconds};
}

Measurement weft_ping_pong(int threads) {
  Completion done(2, "weft ping_pong");
  // Declared before the pool: they outlive the workers.
  weft::Channel<uint64_t> ping(kPingPongCapacity), pong(kPingPongCapacity);
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    pool.executor().spawn(weft_ponger(&ping, &pong, &done)).detach();
    pool.executor().spawn(weft_pinger(&ping, &pong, &done)).detach();
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  return {kRoundTrips, seconds};
}

// ---------------------------------------------------------------- asio ----

asio::awaitable<void> asio_empty(Completion* done) {
  done->arrive();
  co_return;
}

asio::awaitable<void> asio_spawner(Completion* done) {
  auto ex = co_await asio::this_coro::executor;
  for (uint64_t i = 0; i < kSpawnManyTasks; ++i) {
    asio::co_spawn(ex, asio_empty(done), asio::detached);
  }
}

asio::awaitable<void> asio_chain_link(uint64_t remaining, Completion* links,
                                      Completion* chain_done) {
  links->arrive();
  if (remaining > 1) {
    asio::co_spawn(co_await asio::this_coro::executor,
                   asio_chain_link(remaining - 1, links, chain_done), asio::detached);
  } else {
    chain_done->arrive();
  }
}

asio::awaitable<void> asio_yielder(std::atomic<uint64_t>* yields, Completion* done) {
  auto ex = co_await asio::this_coro::executor;
  uint64_t n = 0;
  for (uint64_t i = 0; i < kYieldsPerTask; ++i) {
    // Post-to-self: Asio's equivalent of yield_now().
    co_await asio::post(ex, asio::use_awaitable);
    ++n;
  }
  // release: pairs with the acquire in check_total().
  yields->fetch_add(n, std::memory_order_release);
  done->arrive();
}

// ping_pong's Asio peer: the same two coroutines over concurrent_channel
// (thread-safe, as weft's Channel is), one item of buffer each.
using AsioChannel = asio::experimental::concurrent_channel<void(asio::error_code, uint64_t)>;

asio::awaitable<void> asio_pinger(AsioChannel* ping, AsioChannel* pong, Completion* done) {
  for (uint64_t i = 0; i < kRoundTrips; ++i) {
    co_await ping->async_send(asio::error_code{}, i, asio::use_awaitable);
    uint64_t back = co_await pong->async_receive(asio::use_awaitable);
    if (back != i) fail("asio ping_pong", "wrong reply", i, kRoundTrips);
  }
  done->arrive();
}

asio::awaitable<void> asio_ponger(AsioChannel* ping, AsioChannel* pong, Completion* done) {
  for (uint64_t i = 0; i < kRoundTrips; ++i) {
    uint64_t v = co_await ping->async_receive(asio::use_awaitable);
    co_await pong->async_send(asio::error_code{}, v, asio::use_awaitable);
  }
  done->arrive();
}

Measurement asio_spawn_many(int threads) {
  Completion done(kSpawnManyTasks, "asio spawn_many");
  double seconds;
  {
    AsioWorkers pool(threads);
    auto start = Clock::now();
    for (uint64_t i = 0; i < kSpawnManyTasks; ++i) {
      asio::co_spawn(pool.context(), asio_empty(&done), asio::detached);
    }
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  return {kSpawnManyTasks, seconds};
}

Measurement asio_spawn_many_local(int threads) {
  Completion done(kSpawnManyTasks, "asio spawn_many_local");
  double seconds;
  {
    AsioWorkers pool(threads);
    auto start = Clock::now();
    asio::co_spawn(pool.context(), asio_spawner(&done), asio::detached);
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  return {kSpawnManyTasks, seconds};
}

Measurement asio_chained_spawn(int threads) {
  Completion links(kChains * kChainDepth, "asio chained_spawn links");
  std::vector<std::unique_ptr<Completion>> chains;
  for (uint64_t c = 0; c < kChains; ++c) {
    chains.push_back(std::make_unique<Completion>(1, "asio chained_spawn chain"));
  }
  double seconds;
  {
    AsioWorkers pool(threads);
    auto start = Clock::now();
    for (uint64_t c = 0; c < kChains; ++c) {
      asio::co_spawn(pool.context(), asio_chain_link(kChainDepth, &links, chains[c].get()),
                     asio::detached);
      chains[c]->wait();
    }
    seconds = seconds_since(start);
  }
  links.wait();
  for (auto& chain : chains) chain->check_exact();
  return {kChains * kChainDepth, seconds};
}

Measurement asio_yield_many(int threads) {
  Completion done(kYieldTasks, "asio yield_many");
  std::atomic<uint64_t> yields{0};
  double seconds;
  {
    AsioWorkers pool(threads);
    auto start = Clock::now();
    for (uint64_t i = 0; i < kYieldTasks; ++i) {
      asio::co_spawn(pool.context(), asio_yielder(&yields, &done), asio::detached);
    }
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  check_total("asio yield_many", yields, kYieldTasks * kYieldsPerTask);
  return {kYieldTasks * kYieldsPerTask, seconds};
}

Measurement asio_ping_pong(int threads) {
  Completion done(2, "asio ping_pong");
  double seconds;
  {
    AsioWorkers pool(threads);
    // Declared after the pool: destroyed before its context, once both
    // coroutines have made their last round trip.
    AsioChannel ping(pool.context(), kPingPongCapacity), pong(pool.context(), kPingPongCapacity);
    auto start = Clock::now();
    asio::co_spawn(pool.context(), asio_ponger(&ping, &pong, &done), asio::detached);
    asio::co_spawn(pool.context(), asio_pinger(&ping, &pong, &done), asio::detached);
    done.wait();
    seconds = seconds_since(start);
  }
  done.check_exact();
  return {kRoundTrips, seconds};
}

// ---------------------------------------------------------------- driver --

struct Workload {
  const char* name;
  Measurement (*weft)(int threads);
  Measurement (*asio)(int threads);
};

constexpr Workload kWorkloads[] = {
    {"spawn_many", weft_spawn_many, asio_spawn_many},
    {"spawn_many_local", weft_spawn_many_local, asio_spawn_many_local},
    {"chained_spawn", weft_chained_spawn, asio_chained_spawn},
    {"yield_many", weft_yield_many, asio_yield_many},
    {"ping_pong", weft_ping_pong, asio_ping_pong},
};

void report(const char* peer, const char* workload, int threads, Measurement m) {
  std::printf(
      "{\"peer\":\"%s\",\"workload\":\"%s\",\"threads\":%d,\"iters\":%llu,"
      "\"seconds\":%.4f,\"per_op_ns\":%.1f}\n",
      peer, workload, threads, static_cast<unsigned long long>(m.iters), m.seconds,
      m.seconds * 1e9 / static_cast<double>(m.iters));
  std::fflush(stdout);
}

void run_peer(const char* peer, const char* workload, Measurement (*fn)(int), int threads) {
  for (int i = 0; i < kWarmupRuns; ++i) fn(threads);
  report(peer, workload, threads, fn(threads));
}

[[noreturn]] void usage(const char* argv0, const char* error) {
  if (error) std::fprintf(stderr, "%s: %s\n", argv0, error);
  std::fprintf(stderr, "usage: %s [--threads N] [all", argv0);
  for (const Workload& w : kWorkloads) std::fprintf(stderr, "|%s", w.name);
  std::fprintf(stderr, "]\n");
  std::exit(error ? 2 : 0);
}

int parse_threads(const char* argv0, const char* text) {
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || n < 1 || n > 1024) usage(argv0, "--threads wants 1..1024");
  return static_cast<int>(n);
}

int main_impl(int argc, char** argv) {
  int threads = kDefaultThreads;
  std::string workload = "all";
  bool have_workload = false;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--threads") == 0) {
      if (++i == argc) usage(argv[0], "--threads needs a value");
      threads = parse_threads(argv[0], argv[i]);
    } else if (std::strncmp(arg, "--threads=", 10) == 0) {
      threads = parse_threads(argv[0], arg + 10);
    } else if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      usage(argv[0], nullptr);
    } else if (arg[0] == '-' || have_workload) {
      usage(argv[0], "unexpected argument");
    } else {
      workload = arg;
      have_workload = true;
    }
  }

  bool matched = false;
  for (const Workload& w : kWorkloads) {
    if (workload != "all" && workload != w.name) continue;
    matched = true;
    run_peer("weft", w.name, w.weft, threads);
    run_peer("asio", w.name, w.asio, threads);
  }
  if (!matched) usage(argv[0], "unknown workload");
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
