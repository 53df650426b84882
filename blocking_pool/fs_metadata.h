// fs::Metadata: what stat(2) says about a file, and fs::metadata /
// fs::symlink_metadata to get it without blocking the executor.
//
// What it is for: sizes, types, permissions and times of files, e.g. to
// list a directory (examples/ls.cc) or to size a progress bar.
// Guarantees: one blocking-pool job per call; errors as in fs_error.h.
//
// Example:
//   absl::StatusOr<weft::fs::Metadata> m = co_await weft::fs::metadata("/etc/hosts");
//   if (m.ok() && m->is_file()) std::printf("%llu bytes\n", m->len());
#ifndef WEFT_BLOCKING_POOL_FS_METADATA_H_
#define WEFT_BLOCKING_POOL_FS_METADATA_H_

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "absl/status/statusor.h"
#include "blocking_pool/blocking_job.h"

namespace weft::fs {

enum class FileType { kFile, kDirectory, kSymlink, kBlockDevice, kCharDevice, kFifo, kSocket, kUnknown };

// The file type encoded in a st_mode.
FileType file_type_from_mode(mode_t mode);
// "file", "directory", "symlink", ...
const char* to_string(FileType type);

class Metadata {
 public:
  Metadata() = default;
  explicit Metadata(const struct stat& st) : st_(st) {}

  FileType file_type() const { return file_type_from_mode(st_.st_mode); }
  bool is_file() const { return S_ISREG(st_.st_mode); }
  bool is_dir() const { return S_ISDIR(st_.st_mode); }
  bool is_symlink() const { return S_ISLNK(st_.st_mode); }
  uint64_t len() const { return static_cast<uint64_t>(st_.st_size); }
  // Permission bits (including setuid, setgid, sticky): st_mode & 07777.
  mode_t permissions() const { return st_.st_mode & 07777; }
  std::chrono::system_clock::time_point modified() const { return to_time(st_.st_mtim); }
  std::chrono::system_clock::time_point accessed() const { return to_time(st_.st_atim); }
  std::chrono::system_clock::time_point status_changed() const { return to_time(st_.st_ctim); }
  uid_t uid() const { return st_.st_uid; }
  gid_t gid() const { return st_.st_gid; }
  nlink_t nlink() const { return st_.st_nlink; }
  ino_t ino() const { return st_.st_ino; }
  dev_t dev() const { return st_.st_dev; }
  // Everything, as stat(2) returned it.
  const struct stat& raw() const { return st_; }

 private:
  static std::chrono::system_clock::time_point to_time(const timespec& ts) {
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<
                                                 std::chrono::system_clock::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
  struct stat st_ {};
};

// stat(2): follows symbolic links.
BlockingJob<absl::StatusOr<Metadata>> metadata(std::filesystem::path path);
// lstat(2): describes a symbolic link itself.
BlockingJob<absl::StatusOr<Metadata>> symlink_metadata(std::filesystem::path path);

namespace detail {
absl::StatusOr<Metadata> metadata_now(const std::filesystem::path& path, bool follow);
}  // namespace detail

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_METADATA_H_
