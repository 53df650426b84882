// rtt_server: the weft side of BENCH.md's idle_rtt and busy_rtt workloads,
// an echo server that an external blocking client (rtt_client.cc) measures;
// benches/rtt_bench.sh drives it next to its tokio, smol and std peers.
//
// Usage: rtt_server [--port P] [--threads N] [--neighbours K]
//
// Threads: a weft::Executor served by N workers (WeftWorkers, as the other
// benches); this thread is not one of them: it waits for SIGINT/SIGTERM.
// Before serving, K CPU-bound neighbour tasks are spawned on the same
// executor (busy_rtt): each computes for kNeighbourSlice (a busy loop on
// the clock, not a sleep), awaits weft::yield_now(), and again, until the
// server stops. Then the accept loop: one task per connection, TCP_NODELAY,
// echoing every byte it reads.
//
// Output: "port=NNNN" on stdout once the listener accepts (--port 0 picks
// a free port). On SIGINT/SIGTERM: the neighbours finish their slice and
// end, the workers are joined, the executor destroys the accept loop and
// the open connections, the number of slices computed goes to stderr, and
// the process exits 0.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "benches/completion.h"
#include "benches/rtt_common.h"
#include "benches/weft_workers.h"
#include "weft.h"

namespace weft_bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kDefaultThreads = 2;
// A connection's read buffer: far above one 64-byte message, so a burst
// is echoed in one write.
constexpr size_t kEchoBuffer = 16 * 1024;
// How long the accept loop pauses when the process is out of fds.
constexpr auto kOutOfFdsBackoff = std::chrono::milliseconds(100);

constexpr const char* kUsage = "[--port P] [--threads N] [--neighbours K]";

weft::Task<void> echo(weft::TcpStream s) {
  (void)s.set_nodelay(true);  // one small message at a time: send each at once
  char buf[kEchoBuffer];
  for (;;) {
    auto n = co_await s.read(buf, sizeof buf);
    if (!n.ok()) {
      std::fprintf(stderr, "rtt_server: read: %s\n", n.status().ToString().c_str());
      co_return;
    }
    if (*n == 0) co_return;  // the client closed
    absl::Status st = co_await s.write_all(buf, *n);
    if (!st.ok()) {
      std::fprintf(stderr, "rtt_server: write: %s\n", st.ToString().c_str());
      co_return;
    }
  }
}

weft::Task<void> accept_loop(weft::Executor* ex, weft::TcpListener* listener) {
  for (;;) {
    auto conn = co_await listener->accept();
    if (!conn.ok()) {
      std::fprintf(stderr, "rtt_server: accept: %s\n", conn.status().ToString().c_str());
      if (absl::IsCancelled(conn.status())) co_return;  // the listener closed
      if (absl::IsResourceExhausted(conn.status())) co_await weft::sleep_for(kOutOfFdsBackoff);
      continue;
    }
    ex->spawn(echo(std::move(conn->first))).detach();
  }
}

// Computes until kNeighbourSlice has passed; returns the loop count so the
// work has a result. The clock read is the work: it cannot be optimised out.
uint64_t busy_slice() {
  const auto end = Clock::now() + kNeighbourSlice;
  uint64_t spins = 0;
  while (Clock::now() < end) ++spins;
  return spins;
}

// What the neighbours did, reported on stderr at exit: a check that they
// ran at all, and a use of the computation's result.
struct NeighbourWork {
  std::atomic<uint64_t> slices{0};
  std::atomic<uint64_t> spins{0};
};

// A CPU-bound neighbour: slices of computation with a yield between them,
// until `stop` is set; then adds its counts to `work` and arrives on `done`.
weft::Task<void> neighbour(const std::atomic<bool>* stop, NeighbourWork* work, Completion* done) {
  uint64_t slices = 0;
  uint64_t spins = 0;
  // relaxed: a flag with nothing published through it; the neighbour only
  // has to see it eventually (at its next slice boundary).
  while (!stop->load(std::memory_order_relaxed)) {
    spins += busy_slice();
    ++slices;
    co_await weft::yield_now();
  }
  // relaxed: statistics; done->arrive() (acq_rel) publishes them to main().
  work->slices.fetch_add(slices, std::memory_order_relaxed);
  work->spins.fetch_add(spins, std::memory_order_relaxed);
  done->arrive();
}

int main_impl(int argc, char** argv) {
  int port = 0;
  int threads = kDefaultThreads;
  int neighbours = 0;
  parse_flags(argc, argv, kUsage,
              {{"--port", &port, 0, 65535},
               {"--threads", &threads, 1, 1024},
               {"--neighbours", &neighbours, 0, 1024}});

  // Before any thread starts (the workers and weft's reactor thread inherit
  // the mask): the signals are only ever taken by sigwait below.
  const sigset_t stop_signals = block_stop_signals();

  auto listener =
      weft::TcpListener::bind(weft::SocketAddress::loopback_v4(static_cast<uint16_t>(port)));
  if (!listener.ok()) {
    std::fprintf(stderr, "rtt_server: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  auto bound = listener->local_address();
  if (!bound.ok()) {
    std::fprintf(stderr, "rtt_server: %s\n", bound.status().ToString().c_str());
    return 1;
  }

  std::atomic<bool> stop{false};
  NeighbourWork work;
  Completion neighbours_done(static_cast<uint64_t>(neighbours), "rtt_server neighbours");
  {
    // Declared after the listener, stop and neighbours_done: destroyed first,
    // with every task it still holds (the accept loop, open connections).
    WeftWorkers pool(threads);
    for (int i = 0; i < neighbours; ++i) {
      pool.executor().spawn(neighbour(&stop, &work, &neighbours_done)).detach();
    }
    pool.executor().spawn(accept_loop(&pool.executor(), &*listener)).detach();
    std::printf("port=%u\n", static_cast<unsigned>(bound->port()));
    std::fflush(stdout);

    const int signo = wait_for_stop_signal(stop_signals);
    std::fprintf(stderr, "rtt_server: got %s, stopping\n", ::strsignal(signo));
    // relaxed: see the load in neighbour().
    stop.store(true, std::memory_order_relaxed);
    if (neighbours > 0) neighbours_done.wait();  // each ends within one slice
  }
  // relaxed: the neighbours' adds happened before their arrivals, which
  // neighbours_done.wait() acquired.
  std::fprintf(stderr, "rtt_server: %d neighbours computed %llu slices of %lld ms (%llu clock reads)\n",
               neighbours,
               static_cast<unsigned long long>(work.slices.load(std::memory_order_relaxed)),
               static_cast<long long>(kNeighbourSlice.count()),
               static_cast<unsigned long long>(work.spins.load(std::memory_order_relaxed)));
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
