#include "blocking_pool/fs_read_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "blocking_pool/fs_error.h"
#include "blocking_pool/unblock.h"

namespace weft::fs {
namespace detail {
namespace {

// Entries per pool job. A batch of 256 names is a few dozen KiB, is read
// from the kernel in one or two getdents64 calls, and makes a pool hop
// (~5 us) cost ~20 ns per entry.
constexpr size_t kReadDirBatch = 256;

FileType type_from_dirent(unsigned char d_type) {
  switch (d_type) {
    case DT_REG: return FileType::kFile;
    case DT_DIR: return FileType::kDirectory;
    case DT_LNK: return FileType::kSymlink;
    case DT_BLK: return FileType::kBlockDevice;
    case DT_CHR: return FileType::kCharDevice;
    case DT_FIFO: return FileType::kFifo;
    case DT_SOCK: return FileType::kSocket;
    default: return FileType::kUnknown;
  }
}

}  // namespace

// Owns the DIR*. Used by one job at a time (ReadDir keeps at most one batch
// in flight); closed by whichever of ReadDir and that job lets go last.
struct DirStream {
  DirStream(DIR* d, std::filesystem::path p) : dir(d), path(std::move(p)) {}
  ~DirStream() { ::closedir(dir); }
  DIR* const dir;
  const std::filesystem::path path;
};

DirBatch read_batch(DirStream& s) {
  DirBatch batch;
  batch.entries.reserve(kReadDirBatch);
  while (batch.entries.size() < kReadDirBatch) {
    errno = 0;
    struct dirent* e = ::readdir(s.dir);
    if (!e) {
      if (errno != 0) batch.status = errno_error(errno, "readdir", s.path);
      batch.end = true;
      break;
    }
    const char* name = e->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    FileType type = type_from_dirent(e->d_type);
    if (type == FileType::kUnknown) {
      struct stat st;
      if (::fstatat(::dirfd(s.dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = file_type_from_mode(st.st_mode);
      }
    }
    batch.entries.emplace_back(s.path, name, type, e->d_ino);
  }
  return batch;
}

}  // namespace detail

ReadDir::ReadDir(std::shared_ptr<detail::DirStream> stream, detail::DirBatch first)
    : stream_(std::move(stream)),
      ready_(std::make_move_iterator(first.entries.begin()),
             std::make_move_iterator(first.entries.end())),
      error_(std::move(first.status)),
      end_(first.end) {
  prefetch();
}

ReadDir::ReadDir(ReadDir&&) noexcept = default;
ReadDir& ReadDir::operator=(ReadDir&&) noexcept = default;
// A batch in flight is abandoned with its handle: skipped if it has not
// started; either way its job holds the stream, which closes the directory
// when the job is done with it.
ReadDir::~ReadDir() = default;

void ReadDir::prefetch() {
  if (end_ || pending_ || !stream_) return;
  pending_.emplace(unblock([stream = stream_] { return detail::read_batch(*stream); }));
}

Task<absl::StatusOr<std::optional<DirEntry>>> ReadDir::next() {
  while (ready_.empty()) {
    if (!pending_) {
      // The end, or an error (reported once; the sequence then ends).
      absl::Status error = std::exchange(error_, absl::OkStatus());
      if (!error.ok()) co_return error;
      co_return std::nullopt;
    }
    detail::DirBatch batch = co_await *pending_;
    pending_.reset();
    for (DirEntry& e : batch.entries) ready_.push_back(std::move(e));
    error_ = std::move(batch.status);
    end_ = batch.end;
    prefetch();
  }
  DirEntry e = std::move(ready_.front());
  ready_.pop_front();
  co_return e;
}

BlockingJob<absl::StatusOr<ReadDir>> read_dir(std::filesystem::path path) {
  return unblock([path = std::move(path)]() -> absl::StatusOr<ReadDir> {
    if (absl::Status st = detail::check_path("read_dir", path); !st.ok()) return st;
    DIR* d = ::opendir(path.c_str());
    if (!d) return detail::errno_error(errno, "opendir", path);
    auto stream = std::make_shared<detail::DirStream>(d, path);
    detail::DirBatch first = detail::read_batch(*stream);
    // Built here, on the pool thread; its first prefetch is queued now too.
    return ReadDir(std::move(stream), std::move(first));
  });
}

}  // namespace weft::fs
