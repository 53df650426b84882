// fs::read_dir: the entries of a directory as an async sequence.
//
// What it is for: listing a directory from a task. Entries are read on the
// blocking pool in batches of kReadDirBatch (256): one pool job per batch,
// not per entry, and the next batch is read while the task works through
// the current one.
//
// Requires: one task uses a ReadDir at a time (next() is not reentrant).
// Guarantees: every entry except "." and ".." comes once (entries added or
// removed meanwhile may or may not appear, as with readdir(3)); the end is
// an empty optional; an error is returned once and ends the sequence.
// Each entry's type comes from the directory itself (d_type), or from
// lstat(2) on file systems that do not store it, so listing costs no stat
// per entry. Destroying the ReadDir (or cancelling the task) while a batch
// is being read is safe: the directory is closed when that job ends.
//
// Example:
//   auto dir = co_await weft::fs::read_dir("/var/log");
//   if (!dir.ok()) co_return dir.status();
//   while (true) {
//     absl::StatusOr<std::optional<weft::fs::DirEntry>> e = co_await dir->next();
//     if (!e.ok()) co_return e.status();
//     if (!*e) break;                                  // the end
//     std::printf("%s\n", (*e)->file_name().c_str());
//   }
#ifndef WEFT_BLOCKING_POOL_FS_READ_DIR_H_
#define WEFT_BLOCKING_POOL_FS_READ_DIR_H_

#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "blocking_pool/blocking_job.h"
#include "blocking_pool/fs_metadata.h"
#include "executor/task.h"

namespace weft::fs {

class DirEntry {
 public:
  DirEntry(std::filesystem::path dir, std::string name, FileType type, ino_t ino)
      : path_(std::move(dir) / name), name_(std::move(name)), type_(type), ino_(ino) {}

  // The directory's path joined with the entry's name.
  const std::filesystem::path& path() const { return path_; }
  const std::string& file_name() const { return name_; }
  // The entry itself (a symbolic link is kSymlink, not its target's type).
  FileType file_type() const { return type_; }
  ino_t ino() const { return ino_; }

 private:
  std::filesystem::path path_;
  std::string name_;
  FileType type_;
  ino_t ino_;
};

namespace detail {
struct DirStream;  // the open DIR*, shared with the job reading it
struct DirBatch {
  absl::Status status;
  std::vector<DirEntry> entries;
  bool end = false;  // no more entries after these
};
}  // namespace detail

class ReadDir {
 public:
  ReadDir(ReadDir&&) noexcept;
  ReadDir& operator=(ReadDir&&) noexcept;
  ~ReadDir();

  // The next entry; an empty optional at the end.
  Task<absl::StatusOr<std::optional<DirEntry>>> next();

  // Internal: made by read_dir() with its first batch.
  ReadDir(std::shared_ptr<detail::DirStream> stream, detail::DirBatch first);

 private:
  void prefetch();

  std::shared_ptr<detail::DirStream> stream_;
  std::deque<DirEntry> ready_;
  std::optional<BlockingJob<detail::DirBatch>> pending_;  // the next batch, being read
  absl::Status error_;  // reported once, after the entries before it
  bool end_ = false;    // the stream has no more entries
};

// Opens `path` and reads its first batch of entries.
BlockingJob<absl::StatusOr<ReadDir>> read_dir(std::filesystem::path path);

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_READ_DIR_H_
