// fs::copy: a 256 MiB copy compared byte for byte, each fallback of the
// copy_file_range -> sendfile -> read/write chain, progress reports, and
// the error paths.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "fs_test_util.h"
#include "weft.h"

namespace fs = weft::fs;
using weft_test::run;
using weft_test::TempDir;

namespace {

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

TEST_CASE("copy truncates an existing destination and keeps its mode", "[fs][copy]") {
  // cp without -p: an existing destination keeps its own permission bits.
  TempDir tmp;
  weft_test::write_file(tmp / "src", "short");
  ::chmod((tmp / "src").c_str(), 0750);
  weft_test::write_file(tmp / "dst", std::string(100000, 'x'));
  ::chmod((tmp / "dst").c_str(), 0604);
  auto n = run(fs::copy(tmp / "src", tmp / "dst"));
  REQUIRE(n.ok());
  CHECK(*n == 5);
  CHECK(weft_test::read_file(tmp / "dst") == "short");
  struct stat st;
  REQUIRE(::stat((tmp / "dst").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0604);
}

TEST_CASE("a new destination gets the source's mode less setuid/setgid/sticky, under the umask",
          "[fs][copy]") {
  // Issue #14: the special bits were copied and the umask ignored. cp
  // without -p creates with the source's mode less the special bits and
  // lets the umask apply.
  TempDir tmp;
  weft_test::write_file(tmp / "src", "#!/bin/sh\n");
  REQUIRE(::chmod((tmp / "src").c_str(), 07775) == 0);
  const mode_t old_umask = ::umask(027);
  auto n = run(fs::copy(tmp / "src", tmp / "dst"));
  ::umask(old_umask);
  REQUIRE(n.ok());
  struct stat st;
  REQUIRE(::stat((tmp / "dst").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0750);  // 07775 less 07000, less the umask's 027
}

TEST_CASE("copy writes to a destination that is not a regular file", "[fs][copy]") {
  // Issue #14 bug 3: `truncate "/dev/null": Invalid argument`.
  TempDir tmp;
  weft_test::write_file(tmp / "src", weft_test::pattern(3 * 1024 * 1024 + 5));
  using M = fs::detail::CopyMethod;
  for (M first : {M::kCopyFileRange, M::kSendfile, M::kReadWrite}) {
    auto r = fs::detail::copy_now(tmp / "src", "/dev/null", nullptr, first);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->bytes == 3 * 1024 * 1024 + 5);
  }
  auto n = run(fs::copy(tmp / "src", "/dev/null"));
  REQUIRE(n.ok());
  CHECK(*n == 3 * 1024 * 1024 + 5);
  struct stat st;
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK((st.st_mode & 0666) == 0666);  // not chmod'ed
}

namespace {

constexpr off_t kGiB = off_t{1} << 30;

// A 1 GiB file holding three small runs of data, everything else holes.
struct SparseFile {
  struct Run {
    off_t at;
    std::string data;
  };
  std::vector<Run> runs;

  explicit SparseFile(const std::filesystem::path& p) {
    runs = {{0, weft_test::pattern(4096, 1)},
            {kGiB / 2 + 12345, weft_test::pattern(70000, 2)},
            {kGiB - 100, weft_test::pattern(100, 3)}};
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    for (const Run& r : runs) {
      REQUIRE(::pwrite(fd, r.data.data(), r.data.size(), r.at) ==
              static_cast<ssize_t>(r.data.size()));
    }
    ::close(fd);
  }

  // Same size, same data where the data is, zeros around it, and few
  // blocks on disk.
  void check_copy(const std::filesystem::path& p) const {
    struct stat st;
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK(st.st_size == kGiB);
    // 74 KiB of data; a filled copy would hold 1 GiB (2 Mi blocks).
    CHECK(st.st_blocks * 512 < (off_t{4} << 20));
    int fd = ::open(p.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    for (const Run& r : runs) {
      std::string got(r.data.size() + 2, 'x');
      const off_t from = r.at == 0 ? 0 : r.at - 1;
      const size_t want = std::min<off_t>(got.size(), kGiB - from);
      REQUIRE(::pread(fd, got.data(), want, from) == static_cast<ssize_t>(want));
      got.resize(want);
      std::string expect = (r.at == 0 ? "" : std::string(1, '\0')) + r.data;
      expect.resize(want, '\0');
      CHECK((got == expect));  // not printed: binary
    }
    char c = 'x';
    REQUIRE(::pread(fd, &c, 1, kGiB / 4) == 1);
    CHECK(c == '\0');
    ::close(fd);
  }
};

}  // namespace

TEST_CASE("a sparse file's holes stay holes in the copy", "[fs][copy][sparse]") {
  // Issue #14: a 2 GiB sparse file took 17.8 s and 2 GiB of disk.
  TempDir tmp;
  SparseFile src(tmp / "sparse");
  struct stat st;
  REQUIRE(::stat((tmp / "sparse").c_str(), &st) == 0);
  if (st.st_blocks * 512 >= (off_t{4} << 20)) {
    WARN("skipped: this file system does not keep holes");
    return;
  }
  std::vector<fs::CopyProgress> reports;
  std::mutex mu;
  auto n = run(fs::copy(tmp / "sparse", tmp / "copy", [&](const fs::CopyProgress& p) {
    std::lock_guard<std::mutex> l(mu);
    reports.push_back(p);
  }));
  REQUIRE(n.ok());
  CHECK(*n == static_cast<uint64_t>(kGiB));
  src.check_copy(tmp / "copy");
  std::lock_guard<std::mutex> l(mu);
  REQUIRE(!reports.empty());
  CHECK(reports.back().copied == static_cast<uint64_t>(kGiB));
  CHECK(reports.back().total == static_cast<uint64_t>(kGiB));

  SECTION("through each fallback, onto an existing larger file") {
    using M = fs::detail::CopyMethod;
    for (M first : {M::kSendfile, M::kReadWrite}) {
      weft_test::write_file(tmp / "old", std::string(3 << 20, 'o'));
      auto r = fs::detail::copy_now(tmp / "sparse", tmp / "old", nullptr, first);
      REQUIRE(r.ok());
      CHECK(r->bytes == static_cast<uint64_t>(kGiB));
      CHECK(r->method == first);
      src.check_copy(tmp / "old");
    }
  }
  SECTION("a file that ends in a hole, and one that is all hole") {
    int fd = ::open((tmp / "tail").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "abc", 3, 0) == 3);
    REQUIRE(::ftruncate(fd, kGiB) == 0);
    ::close(fd);
    auto r = run(fs::copy(tmp / "tail", tmp / "tail-copy"));
    REQUIRE(r.ok());
    CHECK(*r == static_cast<uint64_t>(kGiB));
    REQUIRE(::stat((tmp / "tail-copy").c_str(), &st) == 0);
    CHECK(st.st_size == kGiB);
    CHECK(st.st_blocks * 512 < (off_t{4} << 20));
    fd = ::open((tmp / "tail-copy").c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    char head[4] = {1, 1, 1, 1};
    CHECK(::pread(fd, head, 4, 0) == 4);
    CHECK(std::string(head, 4) == std::string("abc\0", 4));
    ::close(fd);

    fd = ::open((tmp / "hole").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, kGiB) == 0);
    ::close(fd);
    r = run(fs::copy(tmp / "hole", tmp / "hole-copy"));
    REQUIRE(r.ok());
    CHECK(*r == static_cast<uint64_t>(kGiB));
    REQUIRE(::stat((tmp / "hole-copy").c_str(), &st) == 0);
    CHECK(st.st_size == kGiB);
    CHECK(st.st_blocks == 0);
  }
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

// Issue #10: with a progress callback, copy calls stay large (cp makes 2
// calls for 256 MiB; 8 MiB calls made 33) while reports keep coming.
TEST_CASE("progress copies are sized by the last call's rate, within bounds", "[fs][copy]") {
  using std::chrono::milliseconds;
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  // 8 MiB in 4 ms (2 GB/s): the next call grows, but at most 8x.
  CHECK(fs::detail::next_progress_chunk(8 * kMiB, milliseconds(4)) == 64 * kMiB);
  // 64 MiB in 32 ms: 50 ms at that rate is 100 MiB.
  CHECK(fs::detail::next_progress_chunk(64 * kMiB, milliseconds(32)) == 100 * kMiB);
  // Slow (a USB stick): never below the 8 MiB floor.
  CHECK(fs::detail::next_progress_chunk(8 * kMiB, milliseconds(800)) == 8 * kMiB);
  // A reflink that took no measurable time, and a huge call: never past 1 GiB.
  CHECK(fs::detail::next_progress_chunk(512 * kMiB, std::chrono::nanoseconds(0)) == 1024 * kMiB);
  CHECK(fs::detail::next_progress_chunk(2048 * kMiB, milliseconds(1)) == 1024 * kMiB);
  // A short call at the end of a run (a few KiB): back to the floor.
  CHECK(fs::detail::next_progress_chunk(4096, std::chrono::microseconds(3)) == 8 * kMiB);
}
