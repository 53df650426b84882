// fs::copy: copies a regular file's contents and permission bits, in the
// kernel when it can, as one job on the blocking pool.
//
// What it is for: copying files from a task as fast as a synchronous copy.
// Tokio's io::copy between files is ~6x slower than std's because every
// small read and write hops threads; here the whole copy is one job.
//
// How: copy_file_range(2) (in-kernel, reflinks on file systems that can),
// falling back to sendfile(2) when the kernel or the file systems refuse
// (EXDEV, EINVAL, EOPNOTSUPP, ENOSYS), then to a read/write loop with a
// 1 MiB buffer. A source whose copy_file_range returns nothing at offset 0
// (procfs, sysfs: files that report size 0) goes straight to read/write.
//
// Requires: `from` is a regular file (or a link to one). `to` is created
// (mode of `from`) or truncated; it must not be the same file as `from`.
// Guarantees: returns the number of bytes copied; `to` gets `from`'s
// permission bits. Errors as in fs_error.h; InvalidArgument when `from` is
// not a regular file or is `to`. With a progress callback, it is called on
// the pool thread after every kProgressChunk (8 MiB) copied and at the end;
// keep it short (it delays the copy) and thread-safe.
//
// Example:
//   auto n = co_await weft::fs::copy("big.iso", "/mnt/usb/big.iso",
//       [](const weft::fs::CopyProgress& p) { draw_bar(p.copied, p.total); });
#ifndef WEFT_BLOCKING_POOL_FS_COPY_H_
#define WEFT_BLOCKING_POOL_FS_COPY_H_

#include <cstdint>
#include <filesystem>
#include <functional>

#include "absl/status/statusor.h"
#include "blocking_pool/blocking_job.h"

namespace weft::fs {

struct CopyProgress {
  uint64_t copied = 0;  // bytes so far
  uint64_t total = 0;   // the source's size when the copy started (0: unknown)
};
using CopyProgressFn = std::function<void(const CopyProgress&)>;

BlockingJob<absl::StatusOr<uint64_t>> copy(std::filesystem::path from, std::filesystem::path to);
BlockingJob<absl::StatusOr<uint64_t>> copy(std::filesystem::path from, std::filesystem::path to,
                                           CopyProgressFn on_progress);

namespace detail {
// The mechanism that moved the bytes (the last one tried).
enum class CopyMethod { kCopyFileRange, kSendfile, kReadWrite };
struct CopyOutcome {
  uint64_t bytes = 0;
  CopyMethod method = CopyMethod::kCopyFileRange;
};
// The synchronous copy; `first` lets tests start further down the
// fallback chain.
absl::StatusOr<CopyOutcome> copy_now(const std::filesystem::path& from,
                                     const std::filesystem::path& to,
                                     const CopyProgressFn& on_progress,
                                     CopyMethod first = CopyMethod::kCopyFileRange);
}  // namespace detail

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_COPY_H_
