// rtt_client: the external client of BENCH.md's idle_rtt and busy_rtt
// workloads. A plain blocking TCP client in its own process (no weft, no
// runtime), so that what it measures is the server's path from a message
// arriving to its echo leaving, including waking the server's threads from
// idle. benches/rtt_bench.sh runs it against every server (rtt_server.cc,
// rtt_server_std.cc, tokio_peer's rtt_server_tokio, smol_peer's
// rtt_server_smol); the same client and the same counts for every peer.
//
// Usage: rtt_client --port P [--gap-us G] [--round-trips R] [--warmup W]
//                   [--max-seconds S] [--peer NAME] [--workload idle_rtt|busy_rtt]
//                   [--threads N] [--neighbours K]
//
// One connection to 127.0.0.1:P with TCP_NODELAY. W unmeasured round trips,
// then R measured ones: send kMessage bytes (a pattern that differs from one
// round trip to the next), read exactly kMessage back, check them, and time
// the two with steady_clock; between round trips, sleep G µs with
// clock_nanosleep (nothing when G is 0). --peer, --workload, --threads and
// --neighbours only label the JSON line; the server was started with them.
//
// Output: one JSON line in the suite's format (BENCH.md):
//   {"peer":"weft","workload":"idle_rtt","threads":2,"gap_us":1000,"iters":R,
//    "seconds":<sum of the round trips>,"per_op_ns":<mean>,"mean_us":..,
//    "p50_us":..,"p99_us":..,"max_us":..,"neighbours":K,"warmup":W,
//    "wall_seconds":<measured phase, gaps included>}
// Wall-time cap: the whole run (warm-up included) stops after --max-seconds
// (the warm-up after a tenth of it), so a server that takes hundreds of ms
// per round trip cannot hold the script for ever. The line then says
// "incomplete":true and "wanted":R, and "iters" is the count it got.
//
// Aborts with a message (exit 1, no line) on a connect, read or write
// error, an early end of stream, an echo that differs from what was sent,
// or one round trip taking longer than kStuckRoundTrip.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "benches/rtt_common.h"

namespace weft_bench {
namespace {

using Clock = std::chrono::steady_clock;

// A round trip that takes this long is a hung server, not a slow one (weft's
// worst today is ~600 ms): the read times out and the run fails.
constexpr int kStuckRoundTripSeconds = 30;
// The warm-up may use at most this share of --max-seconds.
constexpr int kWarmupShareOfBudget = 10;  // i.e. a tenth
constexpr int kDefaultMaxSeconds = 60;
constexpr int kDefaultRoundTrips = 1000;
constexpr int kDefaultWarmup = 100;

constexpr const char* kUsage =
    "--port P [--gap-us G] [--round-trips R] [--warmup W] [--max-seconds S] [--peer NAME] "
    "[--workload idle_rtt|busy_rtt] [--threads N] [--neighbours K]";

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "rtt_client: %s\n", what);
  std::exit(1);
}

[[noreturn]] void die_errno(const char* what) {
  std::fprintf(stderr, "rtt_client: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die_errno("connect");
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    die_errno("TCP_NODELAY");
  }
  timeval stuck{kStuckRoundTripSeconds, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &stuck, sizeof stuck) != 0) {
    die_errno("SO_RCVTIMEO");
  }
  return fd;
}

// One round trip: sends the message of round trip `n`, reads the echo back
// and checks it.
void round_trip(int fd, uint64_t n) {
  unsigned char out[kMessage];
  unsigned char in[kMessage];
  for (size_t i = 0; i < kMessage; ++i) out[i] = static_cast<unsigned char>(n * 7 + i);
  for (size_t sent = 0; sent < kMessage;) {
    const ssize_t w = ::send(fd, out + sent, kMessage - sent, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      die_errno("send");
    }
    sent += static_cast<size_t>(w);
  }
  for (size_t got = 0; got < kMessage;) {
    const ssize_t r = ::read(fd, in + got, kMessage - got);
    if (r == 0) die("the server closed the connection before echoing");
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        std::fprintf(stderr, "rtt_client: no echo within %d s (round trip %llu)\n",
                     kStuckRoundTripSeconds, static_cast<unsigned long long>(n));
        std::exit(1);
      }
      die_errno("read");
    }
    got += static_cast<size_t>(r);
  }
  if (std::memcmp(in, out, kMessage) != 0) {
    std::fprintf(stderr, "rtt_client: round trip %llu: the echo differs from what was sent\n",
                 static_cast<unsigned long long>(n));
    std::exit(1);
  }
}

void sleep_gap(int gap_us) {
  if (gap_us == 0) return;
  timespec ts{gap_us / 1'000'000, static_cast<long>(gap_us % 1'000'000) * 1000};
  while (int rc = ::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts)) {
    if (rc != EINTR) {
      std::fprintf(stderr, "rtt_client: clock_nanosleep: %s\n", std::strerror(rc));
      std::exit(1);
    }
  }
}

int main_impl(int argc, char** argv) {
  int port = 0;
  int gap_us = 0;
  int round_trips = kDefaultRoundTrips;
  int warmup = kDefaultWarmup;
  int max_seconds = kDefaultMaxSeconds;
  int threads = 2;
  int neighbours = 0;
  std::string peer = "weft";
  std::string workload = "idle_rtt";
  parse_flags(argc, argv, kUsage,
              {{"--port", &port, 1, 65535},
               {"--gap-us", &gap_us, 0, 10'000'000},
               {"--round-trips", &round_trips, 1, 100'000'000},
               {"--warmup", &warmup, 0, 100'000'000},
               {"--max-seconds", &max_seconds, 1, 86'400},
               {"--threads", &threads, 1, 1024},
               {"--neighbours", &neighbours, 0, 1024}},
              {{"--peer", &peer}, {"--workload", &workload}});
  if (port == 0) usage_exit(argv[0], kUsage, "--port is required");
  if (workload != "idle_rtt" && workload != "busy_rtt") {
    usage_exit(argv[0], kUsage, "--workload wants idle_rtt or busy_rtt");
  }

  const int fd = connect_to(port);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(max_seconds);
  const auto warmup_deadline =
      start + std::chrono::milliseconds(max_seconds * 1000LL / kWarmupShareOfBudget);
  uint64_t n = 0;  // round trips so far, warm-up included: picks the message

  int warmed = 0;
  for (; warmed < warmup && Clock::now() < warmup_deadline; ++warmed) {
    round_trip(fd, n++);
    sleep_gap(gap_us);
  }

  std::vector<double> us;
  us.reserve(static_cast<size_t>(round_trips));
  const auto measured_start = Clock::now();
  while (us.size() < static_cast<size_t>(round_trips) && Clock::now() < deadline) {
    const auto t0 = Clock::now();
    round_trip(fd, n++);
    us.push_back(secs(Clock::now() - t0) * 1e6);
    sleep_gap(gap_us);
  }
  const double wall_seconds = secs(Clock::now() - measured_start);
  ::close(fd);
  if (us.empty()) die("no round trip measured before --max-seconds (the warm-up took it all)");

  const bool incomplete = us.size() < static_cast<size_t>(round_trips);
  double sum = 0;
  for (double u : us) sum += u;
  std::sort(us.begin(), us.end());
  const size_t count = us.size();
  const double mean = sum / static_cast<double>(count);
  std::string tail;
  if (incomplete) tail = ",\"incomplete\":true,\"wanted\":" + std::to_string(round_trips);
  std::printf(
      "{\"peer\":\"%s\",\"workload\":\"%s\",\"threads\":%d,\"gap_us\":%d,\"iters\":%zu,"
      "\"seconds\":%.4f,\"per_op_ns\":%.1f,\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
      "\"max_us\":%.2f,\"neighbours\":%d,\"warmup\":%d,\"wall_seconds\":%.3f%s}\n",
      peer.c_str(), workload.c_str(), threads, gap_us, count, sum / 1e6, mean * 1e3, mean,
      us[count / 2], us[count * 99 / 100], us.back(), neighbours, warmed, wall_seconds,
      tail.c_str());
  std::fflush(stdout);
  if (incomplete) {
    std::fprintf(stderr, "rtt_client: %s %s: stopped after %d s with %zu of %d round trips\n",
                 peer.c_str(), workload.c_str(), max_seconds, count, round_trips);
  }
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
