// fs::copy: a 256 MiB copy compared byte for byte, each fallback of the
// copy_file_range -> sendfile -> read/write chain, progress reports, and
// the error paths.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "fs_test_util.h"
#include "weft.h"

namespace fs = weft::fs;
using weft_test::TempDir;

namespace {

template <class Job>
auto run(Job job) {
  return weft::block_on([](Job j) -> weft::Task<typename Job::value_type> {
    co_return co_await j;
  }(std::move(job)));
}

constexpr size_t kBlock = 1 << 20;

// Writes `mib` MiB: one pseudo-random MiB repeated, each copy stamped with
// its index, so a lost, repeated or reordered block is detected.
void make_big_file(const std::filesystem::path& p, size_t mib) {
  std::string block = weft_test::pattern(kBlock, 7);
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  for (size_t i = 0; i < mib; ++i) {
    std::memcpy(block.data(), &i, sizeof i);
    REQUIRE(::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
  }
  ::close(fd);
}

// Compares two files a MiB at a time.
bool same_contents(const std::filesystem::path& a, const std::filesystem::path& b) {
  int fa = ::open(a.c_str(), O_RDONLY), fb = ::open(b.c_str(), O_RDONLY);
  std::vector<char> x(kBlock), y(kBlock);
  bool same = fa >= 0 && fb >= 0;
  while (same) {
    ssize_t na = ::read(fa, x.data(), x.size());
    ssize_t nb = ::read(fb, y.data(), y.size());
    if (na != nb || na < 0) same = false;
    if (na <= 0) break;
    if (std::memcmp(x.data(), y.data(), static_cast<size_t>(na)) != 0) same = false;
  }
  ::close(fa);
  ::close(fb);
  return same;
}

}  // namespace

TEST_CASE("a 256 MiB copy is identical, with progress reported", "[fs][copy]") {
  constexpr size_t kMiB = 256;
  TempDir tmp;
  make_big_file(tmp / "src", kMiB);
  std::mutex mu;
  std::vector<fs::CopyProgress> reports;
  auto n = run(fs::copy(tmp / "src", tmp / "dst", [&](const fs::CopyProgress& p) {
    std::lock_guard<std::mutex> l(mu);  // called on the pool thread
    reports.push_back(p);
  }));
  REQUIRE(n.ok());
  CHECK(*n == kMiB * kBlock);
  CHECK(std::filesystem::file_size(tmp / "dst") == kMiB * kBlock);
  CHECK(same_contents(tmp / "src", tmp / "dst"));

  std::lock_guard<std::mutex> l(mu);
  REQUIRE(reports.size() >= 2);  // every 8 MiB, and once at the end
  for (size_t i = 1; i < reports.size(); ++i) CHECK(reports[i].copied >= reports[i - 1].copied);
  CHECK(reports.back().copied == kMiB * kBlock);
  CHECK(reports.back().total == kMiB * kBlock);
}

TEST_CASE("each fallback copies the same bytes", "[fs][copy]") {
  TempDir tmp;
  make_big_file(tmp / "src", 5);
  weft_test::write_file(tmp / "tail", weft_test::pattern(12345));  // not a block multiple
  using M = fs::detail::CopyMethod;
  for (M first : {M::kCopyFileRange, M::kSendfile, M::kReadWrite}) {
    for (const char* name : {"src", "tail"}) {
      auto r = fs::detail::copy_now(tmp / name, tmp / "dst", nullptr, first);
      REQUIRE(r.ok());
      CHECK(r->bytes == std::filesystem::file_size(tmp / name));
      CHECK(same_contents(tmp / name, tmp / "dst"));
      if (first != M::kCopyFileRange) CHECK(r->method == first);
    }
  }
}

TEST_CASE("files that report size 0 (procfs) are copied through read/write", "[fs][copy]") {
  TempDir tmp;
  auto r = fs::detail::copy_now("/proc/self/status", tmp / "status", nullptr);
  REQUIRE(r.ok());
  CHECK(r->bytes > 0);
  CHECK(r->method == fs::detail::CopyMethod::kReadWrite);
  CHECK_THAT(weft_test::read_file(tmp / "status"), Catch::Contains("Pid:"));
}

TEST_CASE("copy truncates the destination and copies permission bits", "[fs][copy]") {
  TempDir tmp;
  weft_test::write_file(tmp / "src", "short");
  ::chmod((tmp / "src").c_str(), 0750);
  weft_test::write_file(tmp / "dst", std::string(100000, 'x'));
  ::chmod((tmp / "dst").c_str(), 0600);
  auto n = run(fs::copy(tmp / "src", tmp / "dst"));
  REQUIRE(n.ok());
  CHECK(*n == 5);
  CHECK(weft_test::read_file(tmp / "dst") == "short");
  struct stat st;
  REQUIRE(::stat((tmp / "dst").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0750);
}

TEST_CASE("copy errors", "[fs][copy]") {
  TempDir tmp;
  weft_test::write_file(tmp / "src", "data");

  auto missing = run(fs::copy(tmp / "nope", tmp / "dst"));
  CHECK(absl::IsNotFound(missing.status()));
  CHECK_THAT(std::string(missing.status().message()), Catch::Contains((tmp / "nope").native()));

  auto no_dir = run(fs::copy(tmp / "src", tmp / "no" / "dst"));
  CHECK(absl::IsNotFound(no_dir.status()));
  CHECK_THAT(std::string(no_dir.status().message()),
             Catch::Contains((tmp / "no" / "dst").native()));

  auto from_dir = run(fs::copy(tmp.path(), tmp / "dst"));
  CHECK(absl::IsFailedPrecondition(from_dir.status()));
  CHECK_THAT(std::string(from_dir.status().message()), Catch::Contains("Is a directory"));

  auto onto_dir = run(fs::copy(tmp / "src", tmp.path()));
  CHECK(absl::IsFailedPrecondition(onto_dir.status()));

  auto same = run(fs::copy(tmp / "src", tmp / "src"));
  CHECK(absl::IsInvalidArgument(same.status()));
  CHECK(weft_test::read_file(tmp / "src") == "data");  // not truncated

  auto device = run(fs::copy("/dev/null", tmp / "dst"));
  CHECK(absl::IsInvalidArgument(device.status()));

  std::filesystem::path denied = weft_test::unwritable_file(tmp.path());
  if (denied.empty()) {
    WARN("skipped: no file here refuses writing to this process");
  } else {
    auto r = run(fs::copy(tmp / "src", denied));
    CHECK(absl::IsPermissionDenied(r.status()));
    CHECK_THAT(std::string(r.status().message()), Catch::Contains(denied.native()));
  }
}
