// fs:: path operations: whole-file read and write, directories, removal,
// renaming, canonical paths, each run on the blocking pool.
//
// What it is for: the file-system calls a server or tool makes, from a task,
// without blocking its executor worker (regular files cannot be polled, so
// async_fd/ cannot help with them).
//
// Requires: call from anywhere; await from a weft coroutine (or wait()).
// Guarantees:
// - Each call is exactly one job on the global blocking pool (weft::unblock):
//   the whole operation (open, read loop, close) runs in that job, never one
//   job per buffer.
// - The arguments are moved into the job; dropping the returned handle
//   before the job started cancels it (see blocking_job.h).
// - Errors are absl::Status values (fs_error.h): NotFound for ENOENT,
//   PermissionDenied for EACCES/EPERM, AlreadyExists, FailedPrecondition for
//   ENOTDIR/EISDIR/ENOTEMPTY, ...; the message names the operation and the
//   path and keeps the system's own message.
//
// Example:
//   absl::StatusOr<std::string> text = co_await weft::fs::read_to_string("config.toml");
//   if (!text.ok()) co_return text.status();
//   absl::Status st = co_await weft::fs::write("out.txt", *text + "\n");
#ifndef WEFT_BLOCKING_POOL_FS_OPS_H_
#define WEFT_BLOCKING_POOL_FS_OPS_H_

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "blocking_pool/blocking_job.h"

namespace weft::fs {

// The max_bytes of read(path): no limit of the caller's. A regular file is
// then read whole, whatever its size; anything else stops at
// kUnsizedReadLimit.
inline constexpr size_t kNoReadLimit = ~size_t{0};
// The most bytes read() gathers, without a limit given, from a file whose
// size fstat(2) does not tell: a device (/dev/zero never ends) or a procfs
// file (reports size 0). Far above any procfs or sysfs file; small enough
// that a mistake costs 64 MiB, not the machine's memory.
inline constexpr size_t kUnsizedReadLimit = size_t{64} << 20;

// The whole file's bytes; read_to_string: as a string (bytes as they are,
// no encoding check).
// - A regular file is read whole (a file bigger than `max_bytes` is
//   refused before a byte is read).
// - Anything else is read until its end, at most `max_bytes`, or
//   kUnsizedReadLimit if no limit is given.
// - More than the limit: ResourceExhausted, `read "/dev/zero": more than
//   67108864 bytes (the limit; ...)`. Stream such a file with fs::File.
// - A FIFO or socket is refused (InvalidArgument; it is a stream: read it
//   with Async<T> or Unblock<T>), and a device that would wait for input
//   (a terminal) fails with Unavailable: no pool thread waits for a peer
//   (fs_open.h). Rust's fs::read blocks there, possibly for ever.
BlockingJob<absl::StatusOr<std::vector<std::byte>>> read(std::filesystem::path path);
BlockingJob<absl::StatusOr<std::vector<std::byte>>> read(std::filesystem::path path,
                                                         size_t max_bytes);
BlockingJob<absl::StatusOr<std::string>> read_to_string(std::filesystem::path path);
BlockingJob<absl::StatusOr<std::string>> read_to_string(std::filesystem::path path,
                                                        size_t max_bytes);

// Creates or truncates `path` (mode 0666 & ~umask) and writes all of
// `data`. The string is moved into the job; the span's bytes are copied.
// A FIFO or socket is refused and a device that would block fails with
// Unavailable, as for read (a device such as /dev/null is written).
BlockingJob<absl::Status> write(std::filesystem::path path, std::string data);
BlockingJob<absl::Status> write(std::filesystem::path path, std::span<const std::byte> data);

// mkdir(2), mode 0777 & ~umask. AlreadyExists if anything is there.
BlockingJob<absl::Status> create_dir(std::filesystem::path path);
// Creates `path` and its missing parents; fine if it is already a directory.
BlockingJob<absl::Status> create_dir_all(std::filesystem::path path);

// unlink(2): a file or a symbolic link, not a directory.
BlockingJob<absl::Status> remove_file(std::filesystem::path path);
// rmdir(2): an empty directory.
BlockingJob<absl::Status> remove_dir(std::filesystem::path path);
// Removes a directory and everything in it, without following symbolic
// links (a link inside is removed, not its target). A symbolic link given
// as `path` is removed itself.
BlockingJob<absl::Status> remove_dir_all(std::filesystem::path path);

// rename(2): replaces `to` if it exists (an empty directory, for a
// directory).
BlockingJob<absl::Status> rename(std::filesystem::path from, std::filesystem::path to);

// The absolute path with every symbolic link, "." and ".." resolved
// (realpath(3)); the path must exist.
BlockingJob<absl::StatusOr<std::filesystem::path>> canonicalize(std::filesystem::path path);

namespace detail {
// The synchronous bodies of the jobs above, for use inside other jobs.
absl::StatusOr<std::string> read_now(const std::filesystem::path& path, size_t max_bytes);
absl::Status write_now(const std::filesystem::path& path, const void* data, size_t size);
absl::Status create_dir_all_now(const std::filesystem::path& path);
absl::Status remove_dir_all_now(const std::filesystem::path& path);
}  // namespace detail

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_OPS_H_
