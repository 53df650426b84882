// Helpers for the socket tests: a second worker thread for an Executor,
// scratch paths, checkable byte patterns, unwrapping a StatusOr, and the
// fd limit.
//
// Catch2 assertions are not thread-safe: tests assert only in the task
// given to run_with_helper (it runs on the calling thread); spawned tasks
// return what they saw.
#ifndef WEFT_TESTS_NET_TEST_UTIL_H_
#define WEFT_TESTS_NET_TEST_UTIL_H_

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <source_location>
#include <string>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "test_util.h"
#include "weft.h"

namespace weft_test {

// Never write co_await inside a Catch2 assertion macro: the macros repeat
// their expression in a dead `while ((void)0, false && (expr))` condition,
// and g++ 12 then runs a co_await that suspends up to three times (three
// writes for one `REQUIRE((co_await s.write_all(...)).ok())`). Await
// first, then assert; require_ok(co_await op) does both and reports the
// caller's line.
inline void require_ok(const absl::Status& st,
                       std::source_location at = std::source_location::current()) {
  INFO(at.file_name() << ":" << at.line() << ": " << st.ToString());
  REQUIRE(st.ok());
}
template <class T>
void require_ok(const absl::StatusOr<T>& r,
                std::source_location at = std::source_location::current()) {
  require_ok(r.status(), at);
}

// Runs `main` on `ex` with the calling thread and one more worker thread,
// so spawned tasks really run in parallel with it. Rethrows what `main`
// throws (a failed REQUIRE) after the helper thread has left.
template <class T>
T run_with_helper(weft::Executor& ex, weft::Task<T> main) {
  Gate done;
  std::thread helper([&] { ex.run([](Gate* g) -> weft::Task<void> { co_await *g; }(&done)); });
  struct JoinOnExit {
    Gate* done;
    std::thread* helper;
    ~JoinOnExit() {
      done->open();
      helper->join();
    }
  } join{&done, &helper};
  return ex.run(std::move(main));
}

// A path in the test's scratch directory (TEST_TMPDIR under Bazel).
inline std::string scratch_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// A path for a Unix socket in the scratch directory. sun_path holds 107
// bytes and Bazel's TEST_TMPDIR is often longer: then the process moves
// into TEST_TMPDIR and the path is relative.
inline std::string socket_path(const std::string& name) {
  const std::string full = scratch_path(name);
  if (full.size() <= weft::UnixAddress::kMaxLength) return full;
  const char* dir = std::getenv("TEST_TMPDIR");
  if (dir && ::chdir(dir) != 0) return full;  // the test will report the long path
  return name;
}

// A name unique to this process and call, for abstract Unix addresses
// (shared by every process in the network namespace).
inline std::string unique_name(const char* prefix) {
  static std::atomic<int> counter{0};
  // relaxed: only uniqueness matters.
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

// Byte `i` of stream `seed`: not periodic at any small length, so lost,
// repeated or reordered chunks show up as a mismatch.
inline uint8_t pattern_byte(uint64_t seed, uint64_t i) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
  x ^= x >> 29;
  return static_cast<uint8_t>(x ^ (x >> 17));
}

inline void fill_pattern(uint64_t seed, uint64_t offset, uint8_t* buf, size_t len) {
  for (size_t i = 0; i < len; ++i) buf[i] = pattern_byte(seed, offset + i);
}

// The index of the first byte that differs from the pattern, or -1.
inline int64_t first_mismatch(uint64_t seed, uint64_t offset, const uint8_t* buf, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (buf[i] != pattern_byte(seed, offset + i)) return static_cast<int64_t>(offset + i);
  }
  return -1;
}

// `n` bytes of pattern stream `seed` from offset 0, as a string.
inline std::string pattern_string(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  fill_pattern(seed, 0, reinterpret_cast<uint8_t*>(s.data()), n);
  return s;
}

// The value of `r`; fails the test (REQUIRE) when `r` holds an error.
// Call it only where an assertion may run (see the top of this file).
template <class T>
T take(absl::StatusOr<T> r, std::source_location at = std::source_location::current()) {
  require_ok(r, at);
  return std::move(*r);
}

// The highest fd open in this process (1024 when /proc is not mounted).
inline int highest_open_fd() {
  int highest = 2;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 1024;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') highest = std::max(highest, std::atoi(e->d_name));
  }
  ::closedir(d);
  return highest;
}

// Raises the soft RLIMIT_NOFILE to at least `want` (bounded by the hard
// limit) for the rest of the process. Returns the soft limit now in force.
inline rlim_t raise_fd_limit(rlim_t want) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < want) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

}  // namespace weft_test

#endif  // WEFT_TESTS_NET_TEST_UTIL_H_
