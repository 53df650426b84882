#include "blocking_pool/fs_metadata.h"

#include <cerrno>

#include "blocking_pool/fs_error.h"
#include "blocking_pool/unblock.h"

namespace weft::fs {

FileType file_type_from_mode(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return FileType::kFile;
    case S_IFDIR: return FileType::kDirectory;
    case S_IFLNK: return FileType::kSymlink;
    case S_IFBLK: return FileType::kBlockDevice;
    case S_IFCHR: return FileType::kCharDevice;
    case S_IFIFO: return FileType::kFifo;
    case S_IFSOCK: return FileType::kSocket;
    default: return FileType::kUnknown;
  }
}

const char* to_string(FileType type) {
  switch (type) {
    case FileType::kFile: return "file";
    case FileType::kDirectory: return "directory";
    case FileType::kSymlink: return "symlink";
    case FileType::kBlockDevice: return "block device";
    case FileType::kCharDevice: return "char device";
    case FileType::kFifo: return "fifo";
    case FileType::kSocket: return "socket";
    case FileType::kUnknown: break;
  }
  return "unknown";
}

namespace detail {
absl::StatusOr<Metadata> metadata_now(const std::filesystem::path& path, bool follow) {
  if (absl::Status st = check_path(follow ? "metadata" : "symlink_metadata", path); !st.ok()) {
    return st;
  }
  struct stat st;
  int rc = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (rc != 0) return errno_error(errno, follow ? "stat" : "lstat", path);
  return Metadata(st);
}
}  // namespace detail

BlockingJob<absl::StatusOr<Metadata>> metadata(std::filesystem::path path) {
  return unblock([path = std::move(path)] { return detail::metadata_now(path, true); });
}

BlockingJob<absl::StatusOr<Metadata>> symlink_metadata(std::filesystem::path path) {
  return unblock([path = std::move(path)] { return detail::metadata_now(path, false); });
}

}  // namespace weft::fs
