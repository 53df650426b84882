#include "blocking_pool/fs_copy.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>

#include "base/owned_fd.h"
#include "blocking_pool/fs_error.h"
#include "blocking_pool/fs_open.h"
#include "blocking_pool/unblock.h"

namespace weft::fs {
namespace detail {

uint64_t next_progress_chunk(uint64_t bytes, std::chrono::nanoseconds took) {
  constexpr uint64_t kFloor = uint64_t{8} << 20;
  constexpr uint64_t kCeiling = uint64_t{1} << 30;
  const uint64_t grown = std::min(bytes, kCeiling) * 8;  // no overflow: <= 8 GiB
  uint64_t want = grown;
  if (took.count() > 0) {
    // bytes * every / took, in long double: bytes (<= 2 GiB) times 5e7 ns
    // would overflow 64 bits.
    const long double rate_bytes =
        static_cast<long double>(bytes) *
        static_cast<long double>(std::chrono::nanoseconds(kProgressEvery).count()) /
        static_cast<long double>(took.count());
    if (rate_bytes < static_cast<long double>(grown)) want = static_cast<uint64_t>(rate_bytes);
  }
  return std::clamp(want, kFloor, kCeiling);
}

namespace {

// Bytes per copy_file_range/sendfile call without a progress callback: as
// much as the kernel takes in one call (it caps a call near 2 GiB).
constexpr uint64_t kWholeChunk = uint64_t{1} << 30;
// With a progress callback, the first call moves kProgressChunk bytes (~3 ms
// at the 2-3 GB/s a warm page cache copies here) and later calls are sized
// by next_progress_chunk (fs_copy.h) to take about kProgressEvery each: a
// 256 MiB copy makes 3 calls instead of 33, and a bar still moves 20 times
// a second.
constexpr uint64_t kProgressChunk = uint64_t{8} << 20;
// The read/write fallback's buffer: large enough that the two system calls
// per chunk are noise next to the copying.
constexpr size_t kReadWriteChunk = size_t{1} << 20;

bool kernel_refused(int err) {
  return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP ||
         err == ENOTSUP || err == EBADF || err == ETXTBSY;
}

// Where a run of the copy stops: at the end of the source, whatever it is.
constexpr uint64_t kToEnd = ~uint64_t{0};

// Moves source bytes [pos_, end) to the destination, one run at a time,
// down the copy_file_range -> sendfile -> read/write chain. The source
// (a regular file) is read at explicit offsets. A regular destination is
// written at the same offsets, so a run that starts after a skipped hole
// leaves that hole in the destination; any other destination (a device)
// is written as a stream, at its own position.
class Copier {
 public:
  Copier(int in, int out, bool out_regular, uint64_t total, const std::filesystem::path& from,
         const std::filesystem::path& to, const CopyProgressFn& on_progress, CopyMethod first)
      : in_(in),
        out_(out),
        positional_(out_regular),
        total_(total),
        from_(from),
        to_(to),
        on_progress_(on_progress),
        method_(first) {}

  // Every byte, holes as zeros: for a destination that is not a regular
  // file, and for sources that report size 0 (procfs).
  absl::StatusOr<CopyOutcome> run_all() {
    if (absl::Status st = copy_run(kToEnd); !st.ok()) return st;
    report();
    return CopyOutcome{pos_, method_};
  }

  // Data extents only (SEEK_DATA/SEEK_HOLE), then ftruncate to the
  // source's size: the holes stay holes. A file system without extent
  // information reports the whole file as data (Linux's generic lseek), and
  // one that refuses SEEK_DATA outright is copied as run_all does.
  absl::StatusOr<CopyOutcome> run_sparse() {
    while (!eof_) {
      const off_t data = ::lseek(in_, static_cast<off_t>(pos_), SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;  // no data from pos_ on: a hole to the end
        if (pos_ != 0) return errno_error(errno, "seek", from_);
        if (absl::Status st = copy_run(kToEnd); !st.ok()) return st;
        break;
      }
      off_t hole = ::lseek(in_, data, SEEK_HOLE);
      if (hole < 0) return errno_error(errno, "seek", from_);
      move_to(static_cast<uint64_t>(data));
      if (absl::Status st = copy_run(static_cast<uint64_t>(hole)); !st.ok()) return st;
    }
    // The size: where the source ended if a run met its end; otherwise its
    // size now (it may end in a hole, which no run wrote).
    if (!eof_) {
      struct stat st;
      if (::fstat(in_, &st) != 0) return errno_error(errno, "stat", from_);
      move_to(std::max(pos_, static_cast<uint64_t>(st.st_size)));
    }
    if (::ftruncate(out_, static_cast<off_t>(pos_)) != 0) {
      return errno_error(errno, "truncate", to_);
    }
    report();
    return CopyOutcome{pos_, method_};
  }

 private:
  struct Step {
    absl::Status status;
    bool done = false;          // copied to `end` or to the end of the source
    bool empty_source = false;  // the kernel saw no data at offset 0
  };

  void report() {
    if (on_progress_) on_progress_(CopyProgress{pos_, total_});
  }
  // Advances the source position (over copied bytes or a skipped hole),
  // reporting progress every kProgressChunk before the end.
  void move_to(uint64_t pos) {
    const uint64_t before = pos_;
    pos_ = pos;
    if (on_progress_ && pos_ < total_ && pos_ / kProgressChunk != before / kProgressChunk) {
      report();
    }
  }

  // One run, falling back down the chain while the kernel refuses.
  absl::Status copy_run(uint64_t end) {
    for (;;) {
      Step step = method_ == CopyMethod::kCopyFileRange ? kernel_copy(true, end)
                  : method_ == CopyMethod::kSendfile    ? kernel_copy(false, end)
                                                        : read_write(end);
      if (!step.status.ok()) return step.status;
      if (step.done) return absl::OkStatus();
      // Refused (or nothing at offset 0): fall back, from pos_.
      method_ = method_ == CopyMethod::kCopyFileRange && !step.empty_source
                    ? CopyMethod::kSendfile
                    : CopyMethod::kReadWrite;
    }
  }

  absl::Status fail(int err, const char* op, bool writing) {
    if (err == EAGAIN) return would_block_error(op, to_);
    return writing ? errno_error(err, op, to_) : errno_error(err, op, from_, to_);
  }

  Step kernel_copy(bool range, uint64_t end) {
    while (pos_ < end) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_, end - pos_));
      // Only a progress callback needs the clock: it sizes the next call.
      const auto started = on_progress_ ? std::chrono::steady_clock::now()
                                        : std::chrono::steady_clock::time_point{};
      ssize_t n;
      if (range) {
        loff_t in_off = static_cast<loff_t>(pos_), out_off = in_off;
        n = ::copy_file_range(in_, &in_off, out_, positional_ ? &out_off : nullptr, want, 0);
      } else {
        // sendfile writes at the destination's own position.
        if (positional_ && ::lseek(out_, static_cast<off_t>(pos_), SEEK_SET) < 0) {
          return Step{errno_error(errno, "seek", to_)};
        }
        off_t in_off = static_cast<off_t>(pos_);
        n = ::sendfile(out_, in_, &in_off, want);
      }
      if (n > 0) {
        if (on_progress_) {
          chunk_ = next_progress_chunk(static_cast<uint64_t>(n),
                                       std::chrono::steady_clock::now() - started);
        }
        move_to(pos_ + static_cast<uint64_t>(n));
        continue;
      }
      if (n == 0) {
        // The end of the source, unless nothing at all came out: procfs
        // and sysfs files need a plain read to show their contents.
        if (pos_ == 0) return Step{absl::OkStatus(), false, true};
        eof_ = true;
        return Step{absl::OkStatus(), true};
      }
      if (errno == EINTR) continue;
      if (kernel_refused(errno)) return Step{};
      return Step{fail(errno, range ? "copy_file_range" : "sendfile", false)};
    }
    return Step{absl::OkStatus(), true};
  }

  Step read_write(uint64_t end) {
    auto buf = std::make_unique_for_overwrite<char[]>(kReadWriteChunk);
    while (pos_ < end) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadWriteChunk, end - pos_));
      ssize_t n = ::pread(in_, buf.get(), want, static_cast<off_t>(pos_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Step{errno_error(errno, "read", from_)};
      }
      if (n == 0) {
        eof_ = true;
        return Step{absl::OkStatus(), true};
      }
      for (ssize_t off = 0; off < n;) {
        const size_t len = static_cast<size_t>(n - off);
        ssize_t w = positional_
                        ? ::pwrite(out_, buf.get() + off, len, static_cast<off_t>(pos_) + off)
                        : ::write(out_, buf.get() + off, len);
        if (w < 0) {
          if (errno == EINTR) continue;
          return Step{fail(errno, "write", true)};
        }
        off += w;
      }
      move_to(pos_ + static_cast<uint64_t>(n));
    }
    return Step{absl::OkStatus(), true};
  }

  const int in_;
  const int out_;
  const bool positional_;  // the destination is a regular file
  const uint64_t total_;
  const std::filesystem::path& from_;
  const std::filesystem::path& to_;
  const CopyProgressFn& on_progress_;
  CopyMethod method_;
  // Bytes asked of the next copy_file_range/sendfile call.
  uint64_t chunk_ = on_progress_ ? kProgressChunk : kWholeChunk;
  uint64_t pos_ = 0;   // source offset copied (or skipped, in a hole) up to
  bool eof_ = false;   // a run met the end of the source
};

}  // namespace

absl::StatusOr<CopyOutcome> copy_now(const std::filesystem::path& from,
                                     const std::filesystem::path& to,
                                     const CopyProgressFn& on_progress, CopyMethod first) {
  // Both paths before either is opened: a refused `to` must not leave `from`
  // opened for nothing, nor a refused `from` create `to`.
  if (absl::Status st = check_path("copy", from); !st.ok()) return st;
  if (absl::Status st = check_path("copy", to); !st.ok()) return st;
  absl::StatusOr<OpenedFile> in = open_no_wait(from, O_RDONLY, 0, "copy", DeviceMode::kNonBlocking);
  if (!in.ok()) return in.status();
  const struct stat& src = in->st;
  if (S_ISDIR(src.st_mode)) return errno_error(EISDIR, "copy", from);
  if (!S_ISREG(src.st_mode)) {
    return path_error(absl::StatusCode::kInvalidArgument, "copy", from, "not a regular file");
  }
  // As cp without -p: a new destination is created with the source's
  // permission bits less setuid, setgid and sticky, and the kernel applies
  // the umask; an existing one keeps its mode and owner. Not O_TRUNC yet:
  // if `to` is `from`, truncating would destroy the source.
  absl::StatusOr<OpenedFile> out =
      open_no_wait(to, O_WRONLY | O_CREAT, src.st_mode & 0777, "copy", DeviceMode::kNonBlocking);
  if (!out.ok()) return out.status();
  const struct stat& dst = out->st;
  if (dst.st_dev == src.st_dev && dst.st_ino == src.st_ino) {
    return path_error(absl::StatusCode::kInvalidArgument, "copy", from,
                      "source and destination are the same file");
  }
  // Only a regular file has a size to cut: /dev/null and other devices
  // are written as they are (ftruncate fails there with EINVAL).
  const bool out_regular = S_ISREG(dst.st_mode);
  if (out_regular && ::ftruncate(out->fd.get(), 0) != 0) return errno_error(errno, "truncate", to);

  Copier copier(in->fd.get(), out->fd.get(), out_regular, static_cast<uint64_t>(src.st_size), from,
                to, on_progress, first);
  absl::StatusOr<CopyOutcome> outcome =
      out_regular && src.st_size > 0 ? copier.run_sparse() : copier.run_all();
  if (!outcome.ok()) return outcome;
  if (int err = out->fd.close()) return errno_error(err, "close", to);
  return outcome;
}

}  // namespace detail

BlockingJob<absl::StatusOr<uint64_t>> copy(std::filesystem::path from, std::filesystem::path to) {
  return copy(std::move(from), std::move(to), nullptr);
}

BlockingJob<absl::StatusOr<uint64_t>> copy(std::filesystem::path from, std::filesystem::path to,
                                           CopyProgressFn on_progress) {
  return unblock([from = std::move(from), to = std::move(to),
                  on_progress = std::move(on_progress)]() -> absl::StatusOr<uint64_t> {
    absl::StatusOr<detail::CopyOutcome> outcome = detail::copy_now(from, to, on_progress);
    if (!outcome.ok()) return outcome.status();
    return outcome->bytes;
  });
}

}  // namespace weft::fs
