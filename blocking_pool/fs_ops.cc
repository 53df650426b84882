#include "blocking_pool/fs_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/owned_fd.h"
#include "blocking_pool/fs_error.h"
#include "blocking_pool/fs_open.h"
#include "blocking_pool/unblock.h"

namespace weft::fs {
namespace detail {
namespace {

// First read of a file whose size stat(2) does not know (procfs, devices).
constexpr size_t kUnknownSizeChunk = 64 * 1024;

absl::Status over_limit(const std::filesystem::path& path, size_t limit) {
  return path_error(absl::StatusCode::kResourceExhausted, "read", path,
                    "more than " + std::to_string(limit) +
                        " bytes (the limit; read(path, max_bytes) takes a larger one, "
                        "fs::File or Unblock<T> stream it)");
}

// `limit`: kNoReadLimit, or the most bytes the caller accepts.
template <class Buffer>
absl::StatusOr<Buffer> read_file(const std::filesystem::path& path, size_t limit) {
  if (absl::Status st = check_path("read", path); !st.ok()) return st;
  absl::StatusOr<OpenedFile> file =
      open_no_wait(path, O_RDONLY, 0, "read", DeviceMode::kNonBlocking);
  if (!file.ok()) return file.status();
  const int fd = file->fd.get();
  const struct stat& st = file->st;
  // A regular file's size is known: read it whole, or refuse it at once.
  // Anything else (a device, a procfs file reporting size 0) may never
  // end (/dev/zero): it gets kUnsizedReadLimit unless the caller chose.
  const bool sized = S_ISREG(st.st_mode) && st.st_size > 0;
  if (limit == kNoReadLimit && !sized) limit = kUnsizedReadLimit;
  if (sized && static_cast<uint64_t>(st.st_size) > limit) return over_limit(path, limit);
  // Reading limit + 1 bytes shows whether there was more.
  const size_t most = limit == kNoReadLimit ? limit : limit + 1;
  Buffer out;
  // One read more than the size, to see the end (files may grow meanwhile).
  size_t want = sized ? static_cast<size_t>(st.st_size) + 1 : kUnknownSizeChunk;
  size_t len = 0;
  for (;;) {
    want = std::min(want, most - len);
    if (out.size() - len < want) out.resize(len + want);
    ssize_t n = ::read(fd, out.data() + len, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return would_block_error("read", path);
      return errno_error(errno, "read", path);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (len > limit) return over_limit(path, limit);
    want = len < kUnknownSizeChunk ? kUnknownSizeChunk : len;  // grow geometrically
  }
  out.resize(len);
  return out;
}

bool is_dir_at(int dirfd, const char* name) {
  struct stat st;
  return ::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

// Removes everything inside the directory open as `dir` (owned); `path`
// names it for error messages.
absl::Status remove_contents(OwnedFd dir, const std::filesystem::path& path) {
  int dfd = dir.get();
  DIR* d = ::fdopendir(dir.release());
  if (!d) return errno_error(errno, "opendir", path);
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (!e) {
      if (errno != 0) return errno_error(errno, "readdir", path);
      return absl::OkStatus();
    }
    const char* name = e->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    bool is_dir = e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_dir_at(dfd, name));
    std::filesystem::path child = path / name;
    if (is_dir) {
      OwnedFd sub(::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        if (errno == ENOENT) continue;  // removed meanwhile
        return errno_error(errno, "open", child);
      }
      if (absl::Status st = remove_contents(std::move(sub), child); !st.ok()) return st;
      if (::unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return errno_error(errno, "rmdir", child);
      }
    } else if (::unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
      return errno_error(errno, "unlink", child);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> read_now(const std::filesystem::path& path, size_t max_bytes) {
  return read_file<std::string>(path, max_bytes);
}

absl::Status write_now(const std::filesystem::path& path, const void* data, size_t size) {
  if (absl::Status st = check_path("write", path); !st.ok()) return st;
  // O_TRUNC cuts a regular file and means nothing to a device.
  absl::StatusOr<OpenedFile> file =
      open_no_wait(path, O_WRONLY | O_CREAT | O_TRUNC, 0666, "write", DeviceMode::kNonBlocking);
  if (!file.ok()) return file.status();
  OwnedFd& fd = file->fd;
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd.get(), p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return would_block_error("write", path);
      return errno_error(errno, "write", path);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  if (int err = fd.close()) return errno_error(err, "close", path);
  return absl::OkStatus();
}

absl::Status create_dir_all_now(const std::filesystem::path& path) {
  if (path.empty()) return absl::OkStatus();
  if (absl::Status st = check_path("create_dir_all", path); !st.ok()) return st;
  if (::mkdir(path.c_str(), 0777) == 0) return absl::OkStatus();
  int err = errno;
  if (err == ENOENT) {
    std::filesystem::path parent = path.parent_path();
    if (!parent.empty() && parent != path) {
      if (absl::Status st = create_dir_all_now(parent); !st.ok()) return st;
      if (::mkdir(path.c_str(), 0777) == 0) return absl::OkStatus();
      err = errno;
    }
  }
  if (err == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return absl::OkStatus();
  }
  return errno_error(err, "mkdir", path);
}

absl::Status remove_dir_all_now(const std::filesystem::path& path) {
  if (absl::Status st = check_path("remove_dir_all", path); !st.ok()) return st;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno_error(errno, "lstat", path);
  if (S_ISLNK(st.st_mode)) {
    if (::unlink(path.c_str()) != 0) return errno_error(errno, "unlink", path);
    return absl::OkStatus();
  }
  if (!S_ISDIR(st.st_mode)) return errno_error(ENOTDIR, "remove_dir_all", path);
  OwnedFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return errno_error(errno, "open", path);
  if (absl::Status s = remove_contents(std::move(dir), path); !s.ok()) return s;
  if (::rmdir(path.c_str()) != 0) return errno_error(errno, "rmdir", path);
  return absl::OkStatus();
}

}  // namespace detail

BlockingJob<absl::StatusOr<std::vector<std::byte>>> read(std::filesystem::path path) {
  return read(std::move(path), kNoReadLimit);
}

BlockingJob<absl::StatusOr<std::vector<std::byte>>> read(std::filesystem::path path,
                                                         size_t max_bytes) {
  return unblock([path = std::move(path), max_bytes] {
    return detail::read_file<std::vector<std::byte>>(path, max_bytes);
  });
}

BlockingJob<absl::StatusOr<std::string>> read_to_string(std::filesystem::path path) {
  return read_to_string(std::move(path), kNoReadLimit);
}

BlockingJob<absl::StatusOr<std::string>> read_to_string(std::filesystem::path path,
                                                        size_t max_bytes) {
  return unblock([path = std::move(path), max_bytes] { return detail::read_now(path, max_bytes); });
}

BlockingJob<absl::Status> write(std::filesystem::path path, std::string data) {
  return unblock([path = std::move(path), data = std::move(data)] {
    return detail::write_now(path, data.data(), data.size());
  });
}

BlockingJob<absl::Status> write(std::filesystem::path path, std::span<const std::byte> data) {
  return unblock([path = std::move(path), data = std::vector<std::byte>(data.begin(), data.end())] {
    return detail::write_now(path, data.data(), data.size());
  });
}

BlockingJob<absl::Status> create_dir(std::filesystem::path path) {
  return unblock([path = std::move(path)]() -> absl::Status {
    if (absl::Status st = detail::check_path("create_dir", path); !st.ok()) return st;
    if (::mkdir(path.c_str(), 0777) != 0) return detail::errno_error(errno, "mkdir", path);
    return absl::OkStatus();
  });
}

BlockingJob<absl::Status> create_dir_all(std::filesystem::path path) {
  return unblock([path = std::move(path)] { return detail::create_dir_all_now(path); });
}

BlockingJob<absl::Status> remove_file(std::filesystem::path path) {
  return unblock([path = std::move(path)]() -> absl::Status {
    if (absl::Status st = detail::check_path("remove_file", path); !st.ok()) return st;
    if (::unlink(path.c_str()) != 0) return detail::errno_error(errno, "unlink", path);
    return absl::OkStatus();
  });
}

BlockingJob<absl::Status> remove_dir(std::filesystem::path path) {
  return unblock([path = std::move(path)]() -> absl::Status {
    if (absl::Status st = detail::check_path("remove_dir", path); !st.ok()) return st;
    if (::rmdir(path.c_str()) != 0) return detail::errno_error(errno, "rmdir", path);
    return absl::OkStatus();
  });
}

BlockingJob<absl::Status> remove_dir_all(std::filesystem::path path) {
  return unblock([path = std::move(path)] { return detail::remove_dir_all_now(path); });
}

BlockingJob<absl::Status> rename(std::filesystem::path from, std::filesystem::path to) {
  return unblock([from = std::move(from), to = std::move(to)]() -> absl::Status {
    if (absl::Status st = detail::check_path("rename", from); !st.ok()) return st;
    if (absl::Status st = detail::check_path("rename", to); !st.ok()) return st;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return detail::errno_error(errno, "rename", from, to);
    }
    return absl::OkStatus();
  });
}

BlockingJob<absl::StatusOr<std::filesystem::path>> canonicalize(std::filesystem::path path) {
  return unblock([path = std::move(path)]() -> absl::StatusOr<std::filesystem::path> {
    if (absl::Status st = detail::check_path("canonicalize", path); !st.ok()) return st;
    std::unique_ptr<char, void (*)(void*)> resolved(::realpath(path.c_str(), nullptr), &std::free);
    if (!resolved) return detail::errno_error(errno, "realpath", path);
    return std::filesystem::path(resolved.get());
  });
}

}  // namespace weft::fs
