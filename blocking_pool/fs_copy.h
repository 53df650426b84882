// fs::copy: copies a regular file's contents, in the kernel when it can,
// as one job on the blocking pool, keeping its holes.
//
// What it is for: copying files from a task as fast as a synchronous copy.
// Tokio's io::copy between files is ~6x slower than std's because every
// small read and write hops threads; here the whole copy is one job.
//
// How: the source's data extents (SEEK_DATA/SEEK_HOLE) are copied to the
// same offsets of the destination and the holes between them skipped; a
// final ftruncate(2) gives the destination the source's size, so a sparse
// file stays sparse (as cp does; a 1 GiB file with a few KiB of data copies
// in microseconds). Each extent goes through copy_file_range(2) (in-kernel,
// reflinks on file systems that can), falling back to sendfile(2) when the
// kernel or the file systems refuse (EXDEV, EINVAL, EOPNOTSUPP, ENOSYS),
// then to a pread/write loop with a 1 MiB buffer. A source whose
// copy_file_range returns nothing at offset 0 (procfs, sysfs: files that
// report a size they do not have) goes straight to read/write. A
// destination that is not a regular file (/dev/null, a disk) gets every
// byte, holes as zeros, and is neither truncated nor resized.
//
// Requires: `from` is a regular file (or a link to one); `to` must not be
// the same file as `from`, nor a FIFO or socket.
// Guarantees:
// - Returns the source's size: the bytes the destination now holds (holes
//   included); for a device destination, the bytes written to it.
// - What is copied: the contents only. A new `to` is created with `from`'s
//   permission bits less setuid, setgid and sticky, and the umask applies
//   (cp without -p does the same; Rust's fs::copy ignores the umask). An
//   existing `to` is truncated and keeps its own mode, owner, ACLs and
//   times. Nothing else (owner, times, xattrs) is copied.
// - Nothing waits for a peer: both files are opened with O_NONBLOCK
//   (fs_open.h). A FIFO or socket on either side is refused with
//   InvalidArgument, naming Async<T>/Unblock<T>; Rust's fs::copy would
//   block in open(2) waiting for the FIFO's other end, holding a pool
//   thread for ever. A device destination that would block (a terminal
//   under flow control) fails with Unavailable.
// - Errors as in fs_error.h; InvalidArgument when `from` is not a regular
//   file or is `to`. With a progress callback, it is called on the pool
//   thread after each copy call that passes an 8 MiB boundary of the source
//   (skipped holes count; the calls are sized to take ~50 ms each, see
//   next_progress_chunk) and at the end with copied == total; keep it short
//   (it delays the copy) and thread-safe.
//
// Example:
//   auto n = co_await weft::fs::copy("big.iso", "/mnt/usb/big.iso",
//       [](const weft::fs::CopyProgress& p) { draw_bar(p.copied, p.total); });
#ifndef WEFT_BLOCKING_POOL_FS_COPY_H_
#define WEFT_BLOCKING_POOL_FS_COPY_H_

#include <chrono>
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
// With a progress callback, each copy_file_range/sendfile call asks for
// as many bytes as the last call's rate moves in about kProgressEvery: at
// least 8 MiB (the first call's size), at most 8 times the last call's
// bytes and at most 1 GiB. So copies stay large (cp's few calls) and
// reports still come several times a second on a slow disk or a fast one.
inline constexpr std::chrono::milliseconds kProgressEvery{50};
uint64_t next_progress_chunk(uint64_t bytes, std::chrono::nanoseconds took);

// The synchronous copy; `first` lets tests start further down the
// fallback chain.
absl::StatusOr<CopyOutcome> copy_now(const std::filesystem::path& from,
                                     const std::filesystem::path& to,
                                     const CopyProgressFn& on_progress,
                                     CopyMethod first = CopyMethod::kCopyFileRange);
}  // namespace detail

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_COPY_H_
