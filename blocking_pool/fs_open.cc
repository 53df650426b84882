#include "blocking_pool/fs_open.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "blocking_pool/fs_error.h"

namespace weft::fs::detail {
namespace {

bool is_stream(mode_t type) { return S_ISFIFO(type) || S_ISSOCK(type); }

}  // namespace

absl::Status stream_refused(std::string_view op, const std::filesystem::path& path, mode_t type) {
  std::string what = S_ISFIFO(type) ? "is a FIFO" : "is a socket";
  return path_error(absl::StatusCode::kInvalidArgument, op, path,
                    what +
                        " (a stream, which would hold a pool thread while it waits): "
                        "use weft::Async<T> or weft::Unblock<T>");
}

absl::Status would_block_error(std::string_view op, const std::filesystem::path& path) {
  return path_error(absl::StatusCode::kUnavailable, op, path,
                    "would block (a device that waits for input or output): "
                    "use weft::Async<T> or weft::Unblock<T>");
}

absl::StatusOr<OpenedFile> open_no_wait(const std::filesystem::path& path, int flags, mode_t mode,
                                        std::string_view op, DeviceMode devices) {
  OpenedFile f;
  f.fd = OwnedFd(::open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC, mode));
  if (!f.fd && errno == EWOULDBLOCK) {
    // A file lease (F_SETLEASE: Samba, NFS servers) held against this
    // open: non-blocking, open(2) refuses instead of waiting for the
    // holder to let go, which the kernel bounds by lease-break-time (45 s
    // by default). A FIFO never answers EWOULDBLOCK, so waiting here waits
    // for the lease only.
    f.fd = OwnedFd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  }
  if (!f.fd) {
    const int err = errno;
    // ENXIO: a FIFO opened for writing with no reader, or a socket. Say
    // which, rather than "No such device or address".
    struct stat st;
    if (err == ENXIO && ::stat(path.c_str(), &st) == 0 && is_stream(st.st_mode)) {
      return stream_refused(op, path, st.st_mode);
    }
    return errno_error(err, "open", path);
  }
  if (::fstat(f.fd.get(), &f.st) != 0) return errno_error(errno, "stat", path);
  if (is_stream(f.st.st_mode)) return stream_refused(op, path, f.st.st_mode);
  const bool device = S_ISCHR(f.st.st_mode) || S_ISBLK(f.st.st_mode);
  if (!device || devices == DeviceMode::kBlocking) {
    // F_GETFL/F_SETFL never block.
    const int fl = ::fcntl(f.fd.get(), F_GETFL);
    if (fl < 0 || ::fcntl(f.fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) {
      return errno_error(errno, "fcntl", path);
    }
  }
  return f;
}

}  // namespace weft::fs::detail
