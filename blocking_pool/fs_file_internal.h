// Private to fs_file.cc and fs_file_stream.cc, the two halves of
// weft::fs::File: the blocking helpers both run on the pool, and the guard
// against two operations at once on one File.
#ifndef WEFT_BLOCKING_POOL_FS_FILE_INTERNAL_H_
#define WEFT_BLOCKING_POOL_FS_FILE_INTERNAL_H_

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>

#include "absl/status/status.h"
#include "blocking_pool/fs_error.h"
#include "blocking_pool/fs_file.h"

namespace weft::fs {
namespace detail {

inline absl::Status write_all(int fd, const std::byte* p, size_t n, const std::filesystem::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return detail::errno_error(errno, "write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

inline absl::Status seek_back(int fd, uint64_t by, const std::filesystem::path& path) {
  if (by == 0) return absl::OkStatus();
  if (::lseek(fd, -static_cast<off_t>(by), SEEK_CUR) < 0) {
    return detail::errno_error(errno, "seek", path);
  }
  return absl::OkStatus();
}

}  // namespace detail

// Marks the File busy for one operation; a second one at the same time is
// misuse. Lives in the operation's frame, so cancellation clears it too.
class File::OpScope {
 public:
  explicit OpScope(File* f) : f_(f) {
    if (f_->busy_) {
      throw std::logic_error(
          "weft: two operations at once on one weft::fs::File (await each before the next)");
    }
    f_->busy_ = true;
  }
  ~OpScope() { f_->busy_ = false; }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  File* f_;
};

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_FILE_INTERNAL_H_
