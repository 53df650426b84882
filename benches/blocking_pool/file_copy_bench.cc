// file_copy_bench: copying a file with weft against plain synchronous
// copies (BENCH.md, workload "file_copy"), all in the same process run.
//
// Usage: file_copy_bench [--threads N] [--file_mib M] [--dir D]
//                        [all|file_copy|file_copy_stream|file_copy_sparse]
//   file_copy         weft::fs::copy          vs  std: a copy_file_range loop
//   file_copy_stream  a weft::fs::File loop   vs  std: a read/write loop
//                     of 64 KiB reads and writes (both peers use 64 KiB)
//   file_copy_sparse  weft::fs::copy          vs  std: what cp does, a
//                     SEEK_DATA/SEEK_HOLE loop copying the data extents with
//                     copy_file_range, then ftruncate; the source is M MiB
//                     of which 1 MiB in every 64 MiB is data (issue #14: a
//                     2 GiB sparse file took 17.8 s and filled the holes)
// Prints one JSON line per workload and peer (see bench_util.h): iters is
// the file size in MiB, per_op_ns the time per MiB, plus "mb_per_s"
// (decimal MB per second, of the file's size), "variant" (which copy it
// was) and "dst_mib_on_disk" (the copy's allocated size: holes kept or not).
//
// The source file (M MiB, default 1024, in D, default $TMPDIR or /tmp) is
// written once and read once so the page cache is warm; each peer then
// makes one unmeasured warm-up copy and one measured copy. The weft copies
// run in a task on an Executor served by N threads (default 2).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "benches/blocking_pool/bench_util.h"
#include "weft.h"

namespace weft_bench {
namespace {

constexpr size_t kStreamBuffer = 64 * 1024;  // both streaming peers
constexpr size_t kDefaultMiB = 1024;
constexpr int kWarmupRuns = 1;

struct Setup {
  int threads = 2;
  size_t mib = kDefaultMiB;
  std::filesystem::path dir;
  std::filesystem::path src, dst;
  std::filesystem::path sparse_src;  // file_copy_sparse's source
};

// file_copy_sparse's source: 1 MiB of data at the start of every 64 MiB.
constexpr size_t kSparseStrideMiB = 64;

void must(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::exit(1);
  }
}

void make_source(const Setup& s) {
  std::vector<char> block(1 << 20);
  uint32_t x = 12345;
  for (char& c : block) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  int fd = ::open(s.src.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  must(fd >= 0, "open source");
  for (size_t i = 0; i < s.mib; ++i) {
    std::memcpy(block.data(), &i, sizeof i);
    must(::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()), "write");
  }
  ::close(fd);
  // Read it once: the measured copies start from a warm page cache.
  fd = ::open(s.src.c_str(), O_RDONLY);
  while (::read(fd, block.data(), block.size()) > 0) {
  }
  ::close(fd);
}

void make_sparse_source(const Setup& s) {
  std::vector<char> block(1 << 20, 'd');
  int fd = ::open(s.sparse_src.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  must(fd >= 0, "open sparse source");
  for (size_t mib = 0; mib < s.mib; mib += kSparseStrideMiB) {
    std::memcpy(block.data(), &mib, sizeof mib);
    must(::pwrite(fd, block.data(), block.size(), static_cast<off_t>(mib) << 20) ==
             static_cast<ssize_t>(block.size()),
         "write");
  }
  must(::ftruncate(fd, static_cast<off_t>(s.mib) << 20) == 0, "ftruncate");
  ::close(fd);
}

uint64_t size_of(const std::filesystem::path& p) { return std::filesystem::file_size(p); }

double mib_on_disk(const std::filesystem::path& p) {
  struct stat st;
  must(::stat(p.c_str(), &st) == 0, "stat");
  return static_cast<double>(st.st_blocks) * 512 / (1 << 20);
}

// ---------------------------------------------------------------- std -----

void std_copy_file_range(const Setup& s) {
  int in = ::open(s.src.c_str(), O_RDONLY);
  int out = ::open(s.dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  must(in >= 0 && out >= 0, "open");
  for (;;) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size_t{1} << 30, 0);
    must(n >= 0, "copy_file_range");
    if (n == 0) break;
  }
  ::close(in);
  must(::close(out) == 0, "close");
}

// cp's way with a sparse file (coreutils 9: SEEK_DATA/SEEK_HOLE, then
// copy_file_range per extent).
void std_sparse_copy(const Setup& s) {
  int in = ::open(s.src.c_str(), O_RDONLY);
  int out = ::open(s.dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  must(in >= 0 && out >= 0, "open");
  off_t pos = 0;
  for (;;) {
    off_t data = ::lseek(in, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole is left
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    must(hole >= 0, "SEEK_HOLE");
    loff_t in_off = data, out_off = data;
    while (in_off < hole) {
      ssize_t n =
          ::copy_file_range(in, &in_off, out, &out_off, static_cast<size_t>(hole - in_off), 0);
      must(n > 0, "copy_file_range");
    }
    pos = hole;
  }
  must(::ftruncate(out, static_cast<off_t>(size_of(s.src))) == 0, "ftruncate");
  ::close(in);
  must(::close(out) == 0, "close");
}

void std_read_write(const Setup& s) {
  int in = ::open(s.src.c_str(), O_RDONLY);
  int out = ::open(s.dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  must(in >= 0 && out >= 0, "open");
  std::vector<char> buf(kStreamBuffer);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    must(n >= 0, "read");
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<size_t>(n - off));
      must(w > 0, "write");
      off += w;
    }
  }
  ::close(in);
  must(::close(out) == 0, "close");
}

// ---------------------------------------------------------------- weft ----

weft::Task<void> weft_fs_copy(const Setup* s, Completion* done) {
  auto n = co_await weft::fs::copy(s->src, s->dst);
  if (!n.ok()) fail(std::string(n.status().ToString()).c_str());
  done->arrive();
}

weft::Task<void> weft_file_stream(const Setup* s, Completion* done) {
  auto in = co_await weft::fs::File::open(s->src);
  auto out = co_await weft::fs::File::create(s->dst);
  if (!in.ok() || !out.ok()) fail("weft: open");
  std::vector<std::byte> buf(kStreamBuffer);
  for (;;) {
    auto n = co_await in->read(buf);
    if (!n.ok()) fail("weft: read");
    if (*n == 0) break;
    auto w = co_await out->write(std::span(buf).first(*n));
    if (!w.ok()) fail("weft: write");
  }
  absl::Status closed = co_await out->close();
  if (!closed.ok()) fail("weft: close");
  done->arrive();
}

void weft_run(const Setup& s, weft::Task<void> (*body)(const Setup*, Completion*)) {
  WeftWorkers workers(s.threads);
  Completion done(1);
  workers.executor().spawn(body(&s, &done)).detach();
  done.wait();
}

// ---------------------------------------------------------------- driver --

struct Peer {
  const char* peer;
  const char* variant;
  void (*copy)(const Setup&);
};

void weft_fs_copy_run(const Setup& s) { weft_run(s, weft_fs_copy); }
void weft_file_stream_run(const Setup& s) { weft_run(s, weft_file_stream); }

struct Workload {
  const char* name;
  Peer weft;
  Peer std;
  bool sparse = false;  // copies sparse_src
};
const Workload kWorkloads[] = {
    {"file_copy", {"weft", "fs::copy", weft_fs_copy_run}, {"std", "copy_file_range", std_copy_file_range}},
    {"file_copy_stream",
     {"weft", "fs::File 64KiB loop", weft_file_stream_run},
     {"std", "read/write 64KiB loop", std_read_write}},
    {"file_copy_sparse",
     {"weft", "fs::copy", weft_fs_copy_run},
     {"std", "SEEK_DATA + copy_file_range (cp)", std_sparse_copy},
     true},
};

void measure(Setup s, const Workload& w, const Peer& p) {
  const char* workload = w.name;
  if (w.sparse) s.src = s.sparse_src;
  for (int i = 0; i < kWarmupRuns; ++i) p.copy(s);
  auto start = Clock::now();
  p.copy(s);
  double seconds = seconds_since(start);
  if (size_of(s.dst) != s.mib << 20) fail("copy has the wrong size");
  char extra[200];
  std::snprintf(extra, sizeof extra,
                ",\"mb_per_s\":%.0f,\"variant\":\"%s\",\"dst_mib_on_disk\":%.1f",
                static_cast<double>(s.mib << 20) / 1e6 / seconds, p.variant, mib_on_disk(s.dst));
  report(p.peer, workload, s.threads, s.mib, seconds, extra);
}

[[noreturn]] void usage(const char* argv0, const char* error) {
  if (error) std::fprintf(stderr, "%s: %s\n", argv0, error);
  std::fprintf(stderr,
               "usage: %s [--threads N] [--file_mib M] [--dir D] "
               "[all|file_copy|file_copy_stream|file_copy_sparse]\n",
               argv0);
  std::exit(error ? 2 : 0);
}

int main_impl(int argc, char** argv) {
  Setup s;
  const char* tmp = std::getenv("TMPDIR");
  s.dir = tmp ? tmp : "/tmp";
  std::string workload = "all";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      std::string f = flag;
      if (arg == f && i + 1 < argc) return argv[++i];
      if (arg.rfind(f + "=", 0) == 0) return arg.substr(f.size() + 1);
      return {};
    };
    if (std::string v = value("--threads"); !v.empty()) {
      s.threads = std::atoi(v.c_str());
    } else if (std::string v = value("--file_mib"); !v.empty()) {
      s.mib = static_cast<size_t>(std::atoll(v.c_str()));
    } else if (std::string v = value("--dir"); !v.empty()) {
      s.dir = v;
    } else if (arg == "-h" || arg == "--help") {
      usage(argv[0], nullptr);
    } else if (arg[0] == '-') {
      usage(argv[0], "unknown flag");
    } else {
      workload = arg;
    }
  }
  if (s.threads < 1 || s.mib < 1) usage(argv[0], "--threads and --file_mib want >= 1");
  std::string tag = "weft-file-copy-" + std::to_string(::getpid());
  s.src = s.dir / (tag + ".src");
  s.dst = s.dir / (tag + ".dst");
  s.sparse_src = s.dir / (tag + ".sparse");
  make_source(s);
  make_sparse_source(s);
  bool matched = false;
  for (const Workload& w : kWorkloads) {
    if (workload != "all" && workload != w.name) continue;
    matched = true;
    measure(s, w, w.weft);
    measure(s, w, w.std);
  }
  std::filesystem::remove(s.src);
  std::filesystem::remove(s.sparse_src);
  std::filesystem::remove(s.dst);
  if (!matched) usage(argv[0], "unknown workload");
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
