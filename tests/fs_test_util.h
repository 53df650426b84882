// Helpers for the fs:: tests: a fresh directory under the test's
// TEST_TMPDIR, files of known contents, and ways to make the kernel say
// "permission denied" even to root (tests run as root here).
#ifndef WEFT_TESTS_FS_TEST_UTIL_H_
#define WEFT_TESTS_FS_TEST_UTIL_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "weft.h"

namespace weft_test {

// Runs one fs:: job to completion from a task; returns its result.
template <class Job>
auto run(Job job) {
  return weft::block_on([](Job j) -> weft::Task<typename Job::value_type> {
    co_return co_await j;
  }(std::move(job)));
}

// A new empty directory, removed (with its contents) at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(base ? base : "/tmp") /
            ("weft-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Deterministic, position-dependent bytes: a shifted copy does not match.
inline std::string pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

inline void write_file(const std::filesystem::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool is_root() { return ::geteuid() == 0; }

// A path whose open for writing fails with EACCES for this process. Root
// passes permission bits, so for root it is a read-only sysctl file, which
// the kernel refuses to open for writing even to root. Empty if neither
// works on this machine.
inline std::filesystem::path unwritable_file(const std::filesystem::path& tmp) {
  std::filesystem::path p;
  if (is_root()) {
    p = "/proc/sys/kernel/version";
  } else {
    p = tmp / "read-only";
    write_file(p, "x");
    ::chmod(p.c_str(), 0444);
  }
  int fd = ::open(p.c_str(), O_WRONLY);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  return errno == EACCES ? p : std::filesystem::path{};
}

// A path whose unlink(2) fails with EPERM or EACCES for this process: for
// root a procfs file, otherwise a file in a directory without write access.
inline std::filesystem::path unremovable_file(const std::filesystem::path& tmp) {
  if (is_root()) return "/proc/version";
  std::filesystem::path dir = tmp / "locked";
  std::filesystem::create_directories(dir);
  write_file(dir / "f", "x");
  ::chmod(dir.c_str(), 0555);
  return dir / "f";
}

// A directory in which mkdir(2) fails with EPERM or EACCES.
inline std::filesystem::path unwritable_dir(const std::filesystem::path& tmp) {
  if (is_root()) return "/sys";
  std::filesystem::path dir = tmp / "no-write";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0555);
  return dir;
}

}  // namespace weft_test

#endif  // WEFT_TESTS_FS_TEST_UTIL_H_
