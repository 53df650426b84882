#include "blocking_pool/fs_copy.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "blocking_pool/fs_error.h"
#include "blocking_pool/unblock.h"
#include "blocking_pool/unique_fd.h"

namespace weft::fs {
namespace detail {
namespace {

// Bytes per copy_file_range/sendfile call without a progress callback: as
// much as the kernel takes in one call (it caps a call near 2 GiB).
constexpr size_t kWholeChunk = size_t{1} << 30;
// Bytes between progress reports: ~3 ms at the 2-3 GB/s a warm page cache
// copies here, so a progress bar moves smoothly and the callbacks cost
// nothing measurable.
constexpr size_t kProgressChunk = size_t{8} << 20;
// The read/write fallback's buffer: large enough that the two system calls
// per chunk are noise next to the copying.
constexpr size_t kReadWriteChunk = size_t{1} << 20;

bool kernel_refused(int err) {
  return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP ||
         err == ENOTSUP || err == EBADF || err == ETXTBSY;
}

class Copier {
 public:
  Copier(int in, int out, uint64_t total, const std::filesystem::path& from,
         const std::filesystem::path& to, const CopyProgressFn& on_progress)
      : in_(in), out_(out), total_(total), from_(from), to_(to), on_progress_(on_progress) {}

  absl::StatusOr<CopyOutcome> run(CopyMethod method) {
    for (;;) {
      Step step = method == CopyMethod::kCopyFileRange ? kernel_copy(true)
                  : method == CopyMethod::kSendfile    ? kernel_copy(false)
                                                       : read_write();
      if (!step.status.ok()) return step.status;
      if (step.done) break;
      // Refused (or nothing at offset 0): fall back, continuing from the
      // current offsets of both files.
      method = method == CopyMethod::kCopyFileRange && !step.empty_source ? CopyMethod::kSendfile
                                                                           : CopyMethod::kReadWrite;
    }
    report();
    return CopyOutcome{copied_, method};
  }

 private:
  struct Step {
    absl::Status status;
    bool done = false;          // copied to the end
    bool empty_source = false;  // the kernel saw no data at offset 0
  };

  size_t chunk() const { return on_progress_ ? kProgressChunk : kWholeChunk; }
  void report() {
    if (on_progress_) on_progress_(CopyProgress{copied_, total_});
  }

  Step kernel_copy(bool range) {
    for (;;) {
      ssize_t n = range ? ::copy_file_range(in_, nullptr, out_, nullptr, chunk(), 0)
                        : ::sendfile(out_, in_, nullptr, chunk());
      if (n > 0) {
        copied_ += static_cast<uint64_t>(n);
        if (on_progress_ && copied_ < total_) report();
        continue;
      }
      if (n == 0) {
        // End of file, unless nothing at all came out: procfs and sysfs
        // files (size 0) need a plain read to show their contents.
        if (copied_ == 0) return Step{absl::OkStatus(), false, true};
        return Step{absl::OkStatus(), true};
      }
      if (errno == EINTR) continue;
      if (kernel_refused(errno)) return Step{};
      return Step{errno_error(errno, range ? "copy_file_range" : "sendfile", from_, to_)};
    }
  }

  Step read_write() {
    auto buf = std::make_unique_for_overwrite<char[]>(kReadWriteChunk);
    for (;;) {
      ssize_t n = ::read(in_, buf.get(), kReadWriteChunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Step{errno_error(errno, "read", from_)};
      }
      if (n == 0) return Step{absl::OkStatus(), true};
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(out_, buf.get() + off, static_cast<size_t>(n - off));
        if (w < 0) {
          if (errno == EINTR) continue;
          return Step{errno_error(errno, "write", to_)};
        }
        off += w;
      }
      uint64_t before = copied_;
      copied_ += static_cast<uint64_t>(n);
      if (on_progress_ && copied_ / kProgressChunk != before / kProgressChunk) report();
    }
  }

  const int in_;
  const int out_;
  const uint64_t total_;
  const std::filesystem::path& from_;
  const std::filesystem::path& to_;
  const CopyProgressFn& on_progress_;
  uint64_t copied_ = 0;
};

}  // namespace

absl::StatusOr<CopyOutcome> copy_now(const std::filesystem::path& from,
                                     const std::filesystem::path& to,
                                     const CopyProgressFn& on_progress, CopyMethod first) {
  // Both paths before either is opened: a refused `to` must not leave `from`
  // opened for nothing, nor a refused `from` create `to`.
  if (absl::Status st = check_path("copy", from); !st.ok()) return st;
  if (absl::Status st = check_path("copy", to); !st.ok()) return st;
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return errno_error(errno, "open", from);
  struct stat src;
  if (::fstat(in.get(), &src) != 0) return errno_error(errno, "stat", from);
  if (S_ISDIR(src.st_mode)) return errno_error(EISDIR, "copy", from);
  if (!S_ISREG(src.st_mode)) {
    return path_error(absl::StatusCode::kInvalidArgument, "copy", from, "not a regular file");
  }
  const mode_t mode = src.st_mode & 07777;
  // Not O_TRUNC yet: if `to` is `from`, truncating would destroy the source.
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, mode));
  if (!out) return errno_error(errno, "open", to);
  struct stat dst;
  if (::fstat(out.get(), &dst) != 0) return errno_error(errno, "stat", to);
  if (dst.st_dev == src.st_dev && dst.st_ino == src.st_ino) {
    return path_error(absl::StatusCode::kInvalidArgument, "copy", from,
                      "source and destination are the same file");
  }
  if (::ftruncate(out.get(), 0) != 0) return errno_error(errno, "truncate", to);
  if ((dst.st_mode & 07777) != mode && ::fchmod(out.get(), mode) != 0) {
    return errno_error(errno, "chmod", to);
  }

  Copier copier(in.get(), out.get(), static_cast<uint64_t>(src.st_size), from, to, on_progress);
  absl::StatusOr<CopyOutcome> outcome = copier.run(first);
  if (!outcome.ok()) return outcome;
  if (int err = out.close()) return errno_error(err, "close", to);
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
