// reactor_bench: weft's reactor against standalone Asio (and plain blocking
// threads where BENCH.md asks) on tcp_rtt, timers and timer_cancel.
//
// Usage: reactor_bench [--threads N] [--peer NAME] [--round-trips N]
//                      [tcp_rtt|timers|timer_cancel|all]
// Prints one JSON line per workload and peer (see BENCH.md), with extra
// fields: tcp_rtt adds mean_us, p50_us, p99_us; timers adds overhead_ms.
// --peer NAME runs only that peer (weft, asio or std); --round-trips N
// overrides tcp_rtt's round trips (benches/syscalls.sh counts syscalls per
// round trip from two runs with different N; the suite never sets it).
//
// The Rust peers (benches/tokio_peer's tokio_reactor, benches/smol_peer)
// repeat these parameters from benches/peer_common, which ports
// sleep_durations() below (std::mt19937 + libstdc++'s
// uniform_int_distribution) and checks the same fingerprint of it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "benches/asio_workers.h"
#include "benches/completion.h"
#include "benches/weft_workers.h"
#include "weft.h"

namespace weft_bench {
namespace {

// Workload parameters (BENCH.md), the same for every peer.
constexpr int kRoundTrips = 100'000;       // tcp_rtt
constexpr size_t kMessage = 64;            // tcp_rtt: bytes each way
constexpr int kSleepers = 100'000;         // timers
constexpr int kMaxSleepMs = 100;           // timers: durations in [1, 100] ms
constexpr uint32_t kSleepSeed = 12345;     // timers: fixed seed
constexpr int kCancelled = 1'000'000;      // timer_cancel
constexpr int kDefaultThreads = 2;
// timers: the fingerprint of sleep_durations(): the sum, and FNV-1a 64 over
// the values in order (each as one uint64_t). benches/peer_common checks the
// same two numbers, so every peer sleeps exactly these durations.
constexpr uint64_t kSleepSum = 5'049'378;
constexpr uint64_t kSleepFnv = 0x0fb2beb9aa2b20ddULL;

// tcp_rtt's round trips: kRoundTrips unless --round-trips N.
int g_round_trips = kRoundTrips;

using Clock = std::chrono::steady_clock;

struct Result {
  uint64_t iters;
  double seconds;
  std::string extra;  // ,"field":value...
};

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "reactor_bench: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// A connected TCP pair on 127.0.0.1 (blocking), with TCP_NODELAY.
std::pair<int, int> tcp_pair() {
  int lis = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(lis, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  if (::listen(lis, 1) != 0) die("listen");
  ::getsockname(lis, reinterpret_cast<sockaddr*>(&a), &len);
  int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  int s = ::accept4(lis, nullptr, nullptr, SOCK_CLOEXEC);
  if (s < 0) die("accept");
  ::close(lis);
  int one = 1;
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return {c, s};
}

std::string rtt_fields(std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  char buf[128];
  std::snprintf(buf, sizeof buf, ",\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f",
                sum / us.size(), us[us.size() / 2], us[us.size() * 99 / 100]);
  return buf;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "reactor_bench: %s\n", what);
    std::abort();
  }
}

// ---------------------------------------------------------------- tcp_rtt

weft::Task<void> weft_server(weft::Async<weft::OwnedFd>* s, Completion* done) {
  char buf[kMessage];
  for (int i = 0; i < g_round_trips; ++i) {
    check((co_await s->read_exact(buf, kMessage)).ok(), "weft server read");
    check((co_await s->write_all(buf, kMessage)).ok(), "weft server write");
  }
  done->arrive();
}

weft::Task<void> weft_client(weft::Async<weft::OwnedFd>* c, std::vector<double>* us,
                             Completion* done) {
  char out[kMessage], in[kMessage];
  std::memset(out, 'x', sizeof out);
  for (int i = 0; i < g_round_trips; ++i) {
    auto t0 = Clock::now();
    check((co_await c->write_all(out, kMessage)).ok(), "weft client write");
    check((co_await c->read_exact(in, kMessage)).ok(), "weft client read");
    (*us)[i] = secs(Clock::now() - t0) * 1e6;
    check(std::memcmp(in, out, kMessage) == 0, "weft echo mismatch");
  }
  done->arrive();
}

Result weft_tcp_rtt(int threads) {
  auto [c, s] = tcp_pair();
  auto client = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(c)).value();
  auto server = weft::Async<weft::OwnedFd>::create(weft::OwnedFd(s)).value();
  std::vector<double> us(g_round_trips);
  Completion done(2, "weft tcp_rtt");
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    pool.executor().spawn(weft_server(&server, &done)).detach();
    pool.executor().spawn(weft_client(&client, &us, &done)).detach();
    done.wait();
    seconds = secs(Clock::now() - start);
  }
  done.check_exact();
  return {static_cast<uint64_t>(g_round_trips), seconds, rtt_fields(us)};
}

asio::awaitable<void> asio_server(asio::ip::tcp::socket& s, Completion* done) {
  char buf[kMessage];
  for (int i = 0; i < g_round_trips; ++i) {
    co_await asio::async_read(s, asio::buffer(buf), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(buf), asio::use_awaitable);
  }
  done->arrive();
}

asio::awaitable<void> asio_client(asio::ip::tcp::socket& c, std::vector<double>* us,
                                  Completion* done) {
  char out[kMessage], in[kMessage];
  std::memset(out, 'x', sizeof out);
  for (int i = 0; i < g_round_trips; ++i) {
    auto t0 = Clock::now();
    co_await asio::async_write(c, asio::buffer(out), asio::use_awaitable);
    co_await asio::async_read(c, asio::buffer(in), asio::use_awaitable);
    (*us)[i] = secs(Clock::now() - t0) * 1e6;
    check(std::memcmp(in, out, kMessage) == 0, "asio echo mismatch");
  }
  done->arrive();
}

Result asio_tcp_rtt(int threads) {
  auto [c, s] = tcp_pair();
  std::vector<double> us(g_round_trips);
  Completion done(2, "asio tcp_rtt");
  double seconds;
  {
    AsioWorkers pool(threads);
    asio::ip::tcp::socket client(pool.context(), asio::ip::tcp::v4(), c);
    asio::ip::tcp::socket server(pool.context(), asio::ip::tcp::v4(), s);
    auto start = Clock::now();
    asio::co_spawn(pool.context(), asio_server(server, &done), asio::detached);
    asio::co_spawn(pool.context(), asio_client(client, &us, &done), asio::detached);
    done.wait();
    seconds = secs(Clock::now() - start);
  }
  done.check_exact();
  return {static_cast<uint64_t>(g_round_trips), seconds, rtt_fields(us)};
}

// Two plain threads doing blocking read/write: the baseline BENCH.md names.
Result std_tcp_rtt(int) {
  auto [c, s] = tcp_pair();
  std::vector<double> us(g_round_trips);
  auto start = Clock::now();
  std::thread server([s = s] {
    char buf[kMessage];
    for (int i = 0; i < g_round_trips; ++i) {
      size_t got = 0;
      while (got < kMessage) {
        ssize_t n = ::read(s, buf + got, kMessage - got);
        check(n > 0, "std server read");
        got += n;
      }
      check(::write(s, buf, kMessage) == static_cast<ssize_t>(kMessage), "std server write");
    }
  });
  char out[kMessage], in[kMessage];
  std::memset(out, 'x', sizeof out);
  for (int i = 0; i < g_round_trips; ++i) {
    auto t0 = Clock::now();
    check(::write(c, out, kMessage) == static_cast<ssize_t>(kMessage), "std client write");
    size_t got = 0;
    while (got < kMessage) {
      ssize_t n = ::read(c, in + got, kMessage - got);
      check(n > 0, "std client read");
      got += n;
    }
    us[i] = secs(Clock::now() - t0) * 1e6;
  }
  server.join();
  double seconds = secs(Clock::now() - start);
  ::close(c);
  ::close(s);
  return {static_cast<uint64_t>(g_round_trips), seconds, rtt_fields(us)};
}

// ---------------------------------------------------------------- timers

std::vector<int> sleep_durations() {
  std::mt19937 rng(kSleepSeed);
  std::uniform_int_distribution<int> d(1, kMaxSleepMs);
  std::vector<int> v(kSleepers);
  for (int& x : v) x = d(rng);
  uint64_t sum = 0, fnv = 0xcbf29ce484222325ULL;
  for (int x : v) {
    sum += static_cast<uint64_t>(x);
    fnv = (fnv ^ static_cast<uint64_t>(x)) * 0x100000001b3ULL;
  }
  check(sum == kSleepSum && fnv == kSleepFnv,
        "sleep_durations: the sequence differs from the one the Rust peers port");
  return v;
}

std::string overhead_field(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, ",\"overhead_ms\":%.2f", seconds * 1e3 - kMaxSleepMs);
  return buf;
}

weft::Task<void> weft_sleeper(int ms, Completion* done) {
  co_await weft::sleep_for(std::chrono::milliseconds(ms));
  done->arrive();
}

Result weft_timers(int threads) {
  auto ds = sleep_durations();
  Completion done(kSleepers, "weft timers");
  double seconds;
  {
    WeftWorkers pool(threads);
    auto start = Clock::now();
    for (int ms : ds) pool.executor().spawn(weft_sleeper(ms, &done)).detach();
    done.wait();
    seconds = secs(Clock::now() - start);
  }
  done.check_exact();
  return {kSleepers, seconds, overhead_field(seconds)};
}

asio::awaitable<void> asio_sleeper(int ms, Completion* done) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
  done->arrive();
}

Result asio_timers(int threads) {
  auto ds = sleep_durations();
  Completion done(kSleepers, "asio timers");
  double seconds;
  {
    AsioWorkers pool(threads);
    auto start = Clock::now();
    for (int ms : ds) asio::co_spawn(pool.context(), asio_sleeper(ms, &done), asio::detached);
    done.wait();
    seconds = secs(Clock::now() - start);
  }
  done.check_exact();
  return {kSleepers, seconds, overhead_field(seconds)};
}

// ---------------------------------------------------------------- timer_cancel

Result weft_timer_cancel(int) {
  auto start = Clock::now();
  for (int i = 0; i < kCancelled; ++i) {
    weft::Timer t(std::chrono::seconds(10));
    t.cancel();
  }
  return {kCancelled, secs(Clock::now() - start), ""};
}

Result asio_timer_cancel(int threads) {
  Completion done(kCancelled, "asio timer_cancel");
  double seconds;
  {
    AsioWorkers pool(threads);
    auto start = Clock::now();
    for (int i = 0; i < kCancelled; ++i) {
      asio::steady_timer t(pool.context(), std::chrono::seconds(10));
      t.async_wait([&done](std::error_code ec) {
        check(ec == asio::error::operation_aborted, "asio timer was not cancelled");
        done.arrive();
      });
      t.cancel();
    }
    done.wait();  // the cancelled handlers have run
    seconds = secs(Clock::now() - start);
  }
  done.check_exact();
  return {kCancelled, seconds, ""};
}

// ---------------------------------------------------------------- driver

struct Peer {
  const char* name;
  Result (*fn)(int);
};
struct Workload {
  const char* name;
  std::vector<Peer> peers;
};

void report(const char* peer, const char* workload, int threads, const Result& r) {
  std::printf(
      "{\"peer\":\"%s\",\"workload\":\"%s\",\"threads\":%d,\"iters\":%llu,"
      "\"seconds\":%.4f,\"per_op_ns\":%.1f%s}\n",
      peer, workload, threads, static_cast<unsigned long long>(r.iters), r.seconds,
      r.seconds * 1e9 / static_cast<double>(r.iters), r.extra.c_str());
  std::fflush(stdout);
}

int main_impl(int argc, char** argv) {
  int threads = kDefaultThreads;
  std::string which = "all";
  std::string only_peer;  // --peer: empty runs every peer
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a.rfind("--threads=", 0) == 0) {
      threads = std::atoi(a.c_str() + 10);
    } else if (a == "--peer" && i + 1 < argc) {
      only_peer = argv[++i];
    } else if (a.rfind("--peer=", 0) == 0) {
      only_peer = a.substr(7);
    } else if (a == "--round-trips" && i + 1 < argc) {
      g_round_trips = std::atoi(argv[++i]);
    } else if (a.rfind("--round-trips=", 0) == 0) {
      g_round_trips = std::atoi(a.c_str() + 14);
    } else if (a[0] != '-') {
      which = a;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--threads N] [--peer weft|asio|std] [--round-trips N] "
                   "[tcp_rtt|timers|timer_cancel|all]\n",
                   argv[0]);
      return 2;
    }
  }
  if (threads < 1 || threads > 1024) {
    std::fprintf(stderr, "%s: --threads wants 1..1024\n", argv[0]);
    return 2;
  }
  if (g_round_trips < 1 || g_round_trips > 100'000'000) {
    std::fprintf(stderr, "%s: --round-trips wants 1..100000000\n", argv[0]);
    return 2;
  }
  const std::vector<Workload> workloads = {
      {"tcp_rtt", {{"weft", weft_tcp_rtt}, {"asio", asio_tcp_rtt}, {"std", std_tcp_rtt}}},
      {"timers", {{"weft", weft_timers}, {"asio", asio_timers}}},
      {"timer_cancel", {{"weft", weft_timer_cancel}, {"asio", asio_timer_cancel}}},
  };
  bool matched = false;
  for (const Workload& w : workloads) {
    if (which != "all" && which != w.name) continue;
    matched = true;
    for (const Peer& p : w.peers) {
      if (!only_peer.empty() && only_peer != p.name) continue;
      p.fn(threads);  // warm-up, unmeasured
      report(p.name, w.name, threads, p.fn(threads));
    }
  }
  if (!matched) {
    std::fprintf(stderr, "%s: unknown workload %s\n", argv[0], which.c_str());
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
