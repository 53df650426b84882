// fs::File's read-ahead and write-behind buffers are reused (issue #10,
// file_copy_stream): a streaming copy allocates its buffers while they grow
// to their largest size, then none, however long the file.
//
// Before the fix, take_spare() moved the spare buffer out and left the
// moved-from spare's capacity behind, so recycle() judged every returned
// buffer no bigger than the (empty) spare and freed it: each 1 MiB of
// read-ahead and each 1 MiB of write-behind was a fresh allocation, whose
// pages the copies then faulted in again (perf: 15% of a 64 KiB copy loop
// in page faults; file_copy_stream ran at 0.25x a plain read/write loop).
//
// Counted on the thread that runs the copy (a LocalExecutor on the test's
// thread): that is where File allocates its buffers; the pool's threads
// only fill and drain them.
#include <catch2/catch.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "alloc_count.h"
#include "fs_test_util.h"
#include "weft.h"

namespace fs = weft::fs;
using weft_test::TempDir;

namespace {

constexpr size_t kMiB = 1024 * 1024;
constexpr size_t kStep = 64 * 1024;  // the copy loop's own buffer

void make_file(const std::filesystem::path& p, size_t size) {
  std::string data(size, '\0');
  uint32_t x = static_cast<uint32_t>(size);
  for (char& c : data) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  weft_test::write_file(p, data);
}

// Copies src to dst through two Files in kStep-byte reads and writes.
weft::Task<void> stream_copy(std::filesystem::path src, std::filesystem::path dst) {
  auto in = co_await fs::File::open(src);
  REQUIRE(in.ok());
  auto out = co_await fs::File::create(dst);
  REQUIRE(out.ok());
  std::vector<std::byte> buf(kStep);
  for (;;) {
    auto n = co_await in->read(buf);
    REQUIRE(n.ok());
    if (*n == 0) break;
    auto w = co_await out->write(std::span(buf).first(*n));
    REQUIRE(w.ok());
  }
  absl::Status closed = co_await out->close();
  REQUIRE(closed.ok());
}

// Buffers of 64 KiB or more that copying `size` bytes allocates.
long large_allocs_for(weft::LocalExecutor& ex, const TempDir& dir, size_t size) {
  const auto src = dir.path() / ("src" + std::to_string(size));
  const auto dst = dir.path() / ("dst" + std::to_string(size));
  make_file(src, size);
  long n = -1;
  {
    weft_test::CountAllocs counting;
    ex.run(stream_copy(src, dst));
    n = counting.large_count();
  }
  CHECK(weft_test::read_file(dst) == weft_test::read_file(src));
  return n;
}

}  // namespace

TEST_CASE("a File copy loop allocates no buffer once they reach full size", "[fs][file][alloc]") {
  TempDir dir;
  weft::LocalExecutor ex;
  make_file(dir.path() / "warm", 256 * 1024);
  ex.run(stream_copy(dir.path() / "warm", dir.path() / "warm.copy"));  // pool threads, caches
  const long small = large_allocs_for(ex, dir, 4 * kMiB);
  const long big = large_allocs_for(ex, dir, 16 * kMiB);
  INFO("4 MiB: " << small << " buffers; 16 MiB: " << big);
  // Growing to 1 MiB on each side takes a handful (64 KiB doubling to
  // 1 MiB, and a second full-size one to alternate with); after that the
  // same buffers go round. Before the fix: one per MiB per side.
  CHECK(small <= 16);
  CHECK(big == small);
}
