// What the binaries of BENCH.md's idle_rtt and busy_rtt workloads share
// (rtt_server.cc, rtt_server_std.cc, rtt_client.cc; benches/rtt_bench.sh
// drives them): the message size, the neighbours' slice, the integer flags
// of their command lines, and the stop signals of the servers.
//
// The Rust servers (benches/tokio_peer's rtt_server_tokio, benches/smol_peer's
// rtt_server_smol) repeat kMessage and kNeighbourSlice from benches/peer_common.
//
// Requires: block_stop_signals() before any thread starts, so every thread
// inherits the mask and the signals are only ever taken by sigwait /
// signalfd. Guarantees: parse_flags() exits with status 2 and a usage line on
// an unknown flag or a value outside its range.
//
// Example:
//   int port = 0, threads = 2;
//   parse_flags(argc, argv, {{"--port", &port, 0, 65535}, {"--threads", &threads, 1, 1024}});
//   sigset_t stop = block_stop_signals();
//   ... start the threads, print "port=N" ...
//   wait_for_stop_signal(stop);
#ifndef WEFT_BENCHES_RTT_COMMON_H_
#define WEFT_BENCHES_RTT_COMMON_H_

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>

namespace weft_bench {

// Bytes each way per round trip (BENCH.md: 64, as tcp_rtt).
constexpr size_t kMessage = 64;

// busy_rtt: a neighbour computes this long between two yields (BENCH.md: a
// 10 ms slice bounds how long a worker stays deaf to I/O).
constexpr std::chrono::milliseconds kNeighbourSlice{10};

// One integer flag: "--name V" or "--name=V", V in [min, max].
struct IntFlag {
  const char* name;
  int* value;
  int min;
  int max;
};

// One string flag: "--name V" or "--name=V".
struct StringFlag {
  const char* name;
  std::string* value;
};

[[noreturn]] inline void usage_exit(const char* argv0, const char* usage, const std::string& why) {
  std::fprintf(stderr, "%s: %s\nusage: %s %s\n", argv0, why.c_str(), argv0, usage);
  std::exit(2);
}

// Parses argv against the flags; anything else is an error (exit 2).
inline void parse_flags(int argc, char** argv, const char* usage,
                        std::initializer_list<IntFlag> ints,
                        std::initializer_list<StringFlag> strings = {}) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("usage: %s %s\n", argv[0], usage);
      std::exit(0);
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    std::string text;
    if (eq != std::string::npos) {
      text = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      text = argv[++i];
    } else {
      usage_exit(argv[0], usage, name + " wants a value");
    }
    bool known = false;
    for (const IntFlag& f : ints) {
      if (name != f.name) continue;
      known = true;
      char* end = nullptr;
      errno = 0;
      const long v = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0 || v < f.min || v > f.max) {
        usage_exit(argv[0], usage,
                   name + " wants " + std::to_string(f.min) + ".." + std::to_string(f.max) +
                       " (got \"" + text + "\")");
      }
      *f.value = static_cast<int>(v);
    }
    for (const StringFlag& f : strings) {
      if (name != f.name) continue;
      known = true;
      *f.value = text;
    }
    if (!known) usage_exit(argv[0], usage, "unknown argument " + arg);
  }
}

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread
// it starts afterwards); returns the set, for wait_for_stop_signal or a
// signalfd.
inline sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) {
    std::fprintf(stderr, "pthread_sigmask: %s\n", std::strerror(rc));
    std::exit(1);
  }
  return set;
}

// Waits for one of the signals of `set` (blocked beforehand); returns its
// number.
inline int wait_for_stop_signal(const sigset_t& set) {
  int signo = 0;
  const int rc = sigwait(&set, &signo);
  if (rc != 0) {
    std::fprintf(stderr, "sigwait: %s\n", std::strerror(rc));
    std::exit(1);
  }
  return signo;
}

}  // namespace weft_bench

#endif  // WEFT_BENCHES_RTT_COMMON_H_
