// file_copy_bench: copying a file with weft against plain synchronous
// copies (BENCH.md, workload "file_copy"), all in the same process run.
//
// Usage: file_copy_bench [--threads N] [--file_mib M] [--dir D]
//                        [all|file_copy|file_copy_stream]
//   file_copy         weft::fs::copy          vs  std: a copy_file_range loop
//   file_copy_stream  a weft::fs::File loop   vs  std: a read/write loop
//                     of 64 KiB reads and writes (both peers use 64 KiB)
// Prints one JSON line per workload and peer (see bench_util.h): iters is
// the file size in MiB, per_op_ns the time per MiB, plus "mb_per_s"
// (decimal MB per second) and "variant" (which copy it was).
//
// The source file (M MiB, default 1024, in D, default $TMPDIR or /tmp) is
// written once and read once so the page cache is warm; each peer then
// makes one unmeasured warm-up copy and one measured copy. The weft copies
// run in a task on an Executor served by N threads (default 2).
#include <fcntl.h>
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
};

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

uint64_t size_of(const std::filesystem::path& p) { return std::filesystem::file_size(p); }

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
};
const Workload kWorkloads[] = {
    {"file_copy", {"weft", "fs::copy", weft_fs_copy_run}, {"std", "copy_file_range", std_copy_file_range}},
    {"file_copy_stream",
     {"weft", "fs::File 64KiB loop", weft_file_stream_run},
     {"std", "read/write 64KiB loop", std_read_write}},
};

void measure(const Setup& s, const char* workload, const Peer& p) {
  for (int i = 0; i < kWarmupRuns; ++i) p.copy(s);
  auto start = Clock::now();
  p.copy(s);
  double seconds = seconds_since(start);
  if (size_of(s.dst) != s.mib << 20) fail("copy has the wrong size");
  char extra[160];
  std::snprintf(extra, sizeof extra, ",\"mb_per_s\":%.0f,\"variant\":\"%s\"",
                static_cast<double>(s.mib << 20) / 1e6 / seconds, p.variant);
  report(p.peer, workload, s.threads, s.mib, seconds, extra);
}

[[noreturn]] void usage(const char* argv0, const char* error) {
  if (error) std::fprintf(stderr, "%s: %s\n", argv0, error);
  std::fprintf(stderr,
               "usage: %s [--threads N] [--file_mib M] [--dir D] "
               "[all|file_copy|file_copy_stream]\n",
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
  make_source(s);
  bool matched = false;
  for (const Workload& w : kWorkloads) {
    if (workload != "all" && workload != w.name) continue;
    matched = true;
    measure(s, w.name, w.weft);
    measure(s, w.name, w.std);
  }
  std::filesystem::remove(s.src);
  std::filesystem::remove(s.dst);
  if (!matched) usage(argv[0], "unknown workload");
  return 0;
}

}  // namespace
}  // namespace weft_bench

int main(int argc, char** argv) { return weft_bench::main_impl(argc, argv); }
