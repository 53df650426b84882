// open_no_wait: opening a path on a pool thread without waiting for a
// peer, and sorting what was opened by type. Internal to blocking_pool/.
//
// What it is for: open(2) of a FIFO waits for the other end (for ever, if
// nobody comes), and reading a FIFO, a socket or a terminal waits for
// data. A pool thread stuck there is lost to every other job, and a
// timeout around the job cannot free it (~500 such calls exhaust the
// pool). Every fs:: call that opens a path goes through here instead:
// 1. open with O_NONBLOCK, which never waits (a FIFO opened for writing
//    with no reader fails at once with ENXIO, as does a socket); only a
//    file lease held by another process (EWOULDBLOCK) is waited for, with
//    a blocking open, which the kernel's lease-break-time bounds;
// 2. fstat the descriptor (not the path: no race with a rename);
// 3. a stream (FIFO or socket) is refused: InvalidArgument, naming
//    Async<T> and Unblock<BlockingFd>, which wait without holding a pool
//    thread (Async) or at least under the caller's control (Unblock);
// 4. a regular file or directory gets its blocking mode back (O_NONBLOCK
//    means nothing for them on Linux, but stays out of the caller's way);
// 5. a device keeps O_NONBLOCK when `devices` says so (a read that would
//    wait then fails with would_block_error instead of waiting); the
//    devices people read whole (/dev/null, /dev/zero, /dev/urandom, disks)
//    never wait anyway.
#ifndef WEFT_BLOCKING_POOL_FS_OPEN_H_
#define WEFT_BLOCKING_POOL_FS_OPEN_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/owned_fd.h"

namespace weft::fs::detail {

struct OpenedFile {
  OwnedFd fd;
  struct stat st {};
};

// What a device (character or block special file) is left with.
enum class DeviceMode {
  kNonBlocking,  // whole-file helpers: fail rather than wait
  kBlocking,     // fs::File: the caller streams it, one read per job
};

// open(path, flags | O_NONBLOCK | O_CLOEXEC, mode), then steps 2-5 above.
// `op` names the caller in the refusal ("read", "copy", ...). Errors from
// open(2) as errno_error("open", path); `path` must have passed check_path.
absl::StatusOr<OpenedFile> open_no_wait(const std::filesystem::path& path, int flags, mode_t mode,
                                        std::string_view op, DeviceMode devices);

// InvalidArgument: `op "path": is a FIFO (a stream, which would hold a
// pool thread while it waits): use weft::Async<T> or weft::Unblock<T>`.
absl::Status stream_refused(std::string_view op, const std::filesystem::path& path, mode_t type);

// Unavailable: `op "path": would block (a device that waits for input or
// output): use weft::Async<T> or weft::Unblock<T>`.
absl::Status would_block_error(std::string_view op, const std::filesystem::path& path);

}  // namespace weft::fs::detail

#endif  // WEFT_BLOCKING_POOL_FS_OPEN_H_
