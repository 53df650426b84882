// file_copy SRC DST: copies a file with weft::fs::copy (copy_file_range in
// the kernel, on the blocking pool) and shows a progress bar on stderr for
// large files: bytes so far, MB/s, and the time left. Prints the time
// taken at the end. Like cp: a sparse file stays sparse, DST may be a
// device (/dev/null), a new DST gets SRC's mode less setuid/setgid under
// the umask; a FIFO on either side is refused instead of waited for.
//
//   bazel run -c opt //examples:file_copy -- /path/to/big.iso /tmp/copy.iso
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "weft.h"

namespace {

using Clock = std::chrono::steady_clock;

// Files smaller than this are done before a bar would be worth drawing.
constexpr uint64_t kBarFromBytes = 32ull << 20;
// Redraw at most this often (the callback comes every 8 MiB).
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char s[32];
  std::snprintf(s, sizeof s, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return s;
}

// Draws the bar; called on a blocking-pool thread by fs::copy.
class ProgressBar {
 public:
  ProgressBar() : start_(Clock::now()), tty_(::isatty(STDERR_FILENO)) {}

  void update(const weft::fs::CopyProgress& p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (p.total < kBarFromBytes) return;
    auto now = Clock::now();
    bool done = p.copied >= p.total;
    if (!done && now - last_draw_ < kRedrawEvery) return;
    last_draw_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? p.copied / secs : 0;  // bytes per second
    double left = rate > 0 ? (p.total - p.copied) / rate : 0;
    int filled = static_cast<int>(kBarWidth * static_cast<double>(p.copied) / p.total);
    std::string bar(filled, '#');
    bar.resize(kBarWidth, '.');
    std::fprintf(stderr, "%s[%s] %s / %s  %.1f MB/s  ETA %d:%02d%s", tty_ ? "\r" : "",
                 bar.c_str(), human_bytes(p.copied).c_str(), human_bytes(p.total).c_str(),
                 rate / 1e6, static_cast<int>(left) / 60, static_cast<int>(left) % 60,
                 tty_ && !done ? "   " : "\n");
    drew_ = true;
  }
  bool drew() {
    std::lock_guard<std::mutex> lock(mu_);
    return drew_;
  }

 private:
  std::mutex mu_;
  const Clock::time_point start_;
  Clock::time_point last_draw_{};  // guarded by mu_
  bool drew_ = false;              // guarded by mu_
  const bool tty_;
};

weft::Task<int> copy(std::string src, std::string dst) {
  ProgressBar bar;
  auto start = Clock::now();
  absl::StatusOr<uint64_t> n = co_await weft::fs::copy(
      src, dst, [&bar](const weft::fs::CopyProgress& p) { bar.update(p); });
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (!n.ok()) {
    std::fprintf(stderr, "file_copy: %s\n", std::string(n.status().message()).c_str());
    co_return 1;
  }
  std::fprintf(stderr, "copied %s in %.3f s (%.1f MB/s)\n", human_bytes(*n).c_str(), secs,
               secs > 0 ? *n / secs / 1e6 : 0.0);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
    return 2;
  }
  return weft::block_on(copy(argv[1], argv[2]));
}
