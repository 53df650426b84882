#include "blocking_pool/fs_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "blocking_pool/fs_error.h"
#include "blocking_pool/fs_file_internal.h"
#include "blocking_pool/fs_open.h"
#include "blocking_pool/unblock.h"

namespace weft::fs {
namespace {

using detail::Chunk;
using detail::FileJobResult;
using detail::seek_back;
using detail::write_all;

int open_flags(const OpenOptions& o) {
  bool write = o.write || o.append;
  int flags = (o.read && write) ? O_RDWR : write ? O_WRONLY : O_RDONLY;
  if (o.append) flags |= O_APPEND;
  if (o.truncate) flags |= O_TRUNC;
  if (o.create_new) {
    flags |= O_CREAT | O_EXCL;
  } else if (o.create) {
    flags |= O_CREAT;
  }
  return flags;  // open_no_wait adds O_NONBLOCK and O_CLOEXEC
}

FileJobResult failed(absl::Status status) {
  FileJobResult r;
  r.status = std::move(status);
  return r;
}

}  // namespace

// --- opening -------------------------------------------------------------

File::File(int fd, std::filesystem::path path, bool readable, bool writable)
    : fd_(fd), path_(std::move(path)), readable_(readable), writable_(writable) {}

BlockingJob<absl::StatusOr<File>> File::open(std::filesystem::path path) {
  return open(std::move(path), OpenOptions{.read = true});
}

BlockingJob<absl::StatusOr<File>> File::create(std::filesystem::path path) {
  return open(std::move(path), OpenOptions{.write = true, .truncate = true, .create = true});
}

BlockingJob<absl::StatusOr<File>> File::open(std::filesystem::path path, OpenOptions options) {
  return unblock([path = std::move(path), options]() mutable -> absl::StatusOr<File> {
    if (!options.read && !options.write && !options.append) {
      return detail::path_error(absl::StatusCode::kInvalidArgument, "open", path,
                                "neither read nor write access requested");
    }
    if (absl::Status st = detail::check_path("File::open", path); !st.ok()) return st;
    absl::StatusOr<detail::OpenedFile> file = detail::open_no_wait(
        path, open_flags(options), options.mode, "File::open", detail::DeviceMode::kBlocking);
    if (!file.ok()) return file.status();
    return File(file->fd.release(), std::move(path), options.read,
                options.write || options.append);
  });
}

File File::from_fd(int fd, std::filesystem::path path) {
  // fcntl(F_GETFL) does not block; it tells what the descriptor allows.
  int fl = ::fcntl(fd, F_GETFL);
  int acc = fl < 0 ? O_RDWR : (fl & O_ACCMODE);
  return File(fd, std::move(path), acc != O_WRONLY, acc != O_RDONLY);
}

File::File(File&& o) noexcept { *this = std::move(o); }

File& File::operator=(File&& o) noexcept {
  if (this == &o) return *this;
  release_to_pool();
  fd_ = std::exchange(o.fd_, -1);
  path_ = std::move(o.path_);
  readable_ = o.readable_;
  writable_ = o.writable_;
  rbuf_ = std::exchange(o.rbuf_, Chunk{});
  rpos_ = std::exchange(o.rpos_, 0);
  next_ = std::exchange(o.next_, Chunk{});
  read_size_ = std::exchange(o.read_size_, 0);
  short_read_ = std::exchange(o.short_read_, false);
  at_end_ = std::exchange(o.at_end_, false);
  read_error_ = std::exchange(o.read_error_, absl::OkStatus());
  wbuf_ = std::exchange(o.wbuf_, Chunk{});
  write_size_ = std::exchange(o.write_size_, 0);
  write_error_ = std::exchange(o.write_error_, absl::OkStatus());
  spare_ = std::exchange(o.spare_, Chunk{});
  os_ahead_ = std::exchange(o.os_ahead_, 0);
  pending_kind_ = std::exchange(o.pending_kind_, Pending::kNone);
  pending_ = std::exchange(o.pending_, std::nullopt);
  busy_ = false;
  return *this;
}

File::~File() { release_to_pool(); }

void File::release_to_pool() noexcept {
  if (fd_ < 0) {
    // Closed (or being closed by a cancelled close()): let its job finish.
    if (pending_) std::exchange(pending_, std::nullopt)->detach();
    pending_kind_ = Pending::kNone;
    return;
  }
  // The last job: wait for the one in flight (queued before this one, so
  // already started: the pool is FIFO), write what is buffered, close.
  Chunk tail = std::exchange(wbuf_, Chunk{});
  uint64_t back = tail.len ? os_ahead_ : 0;
  unblock([fd = std::exchange(fd_, -1), pending = std::exchange(pending_, std::nullopt), back,
           tail = std::move(tail), path = path_]() mutable {
    if (pending) pending->wait();  // its status has nobody to go to
    if (tail.len && seek_back(fd, back, path).ok()) {
      (void)write_all(fd, tail.data.get(), tail.len, path);
    }
    ::close(fd);
  }).detach();
  pending_kind_ = Pending::kNone;
}

absl::Status File::check_open(const char* op) const {
  if (fd_ >= 0) return absl::OkStatus();
  return detail::path_error(absl::StatusCode::kFailedPrecondition, op, path_, "file is closed");
}

// --- everything else ---------------------------------------------------------

template <class Op>
Task<FileJobResult> File::run_settled(const char* name, bool drop_reads, Op op) {
  if (absl::Status st = check_open(name); !st.ok()) co_return failed(st);
  if (absl::Status st = co_await drain_writes(); !st.ok()) co_return failed(st);
  if (drop_reads) {
    co_await drop_read_side();
  } else {
    co_await settle_read();  // keep its data: this op leaves the offset alone
  }
  uint64_t back = drop_reads ? std::exchange(os_ahead_, 0) : 0;
  // Kept in pending_ like every File job: if this operation is cancelled,
  // the next one (or the destructor) waits for the job before using the fd.
  pending_kind_ = Pending::kOther;
  pending_.emplace(unblock([fd = fd_, back, path = path_, op = std::move(op)]() mutable {
    if (absl::Status st = seek_back(fd, back, path); !st.ok()) return failed(st);
    return op(fd, path);
  }));
  FileJobResult r = co_await *pending_;
  pending_.reset();
  pending_kind_ = Pending::kNone;
  co_return r;
}

Task<absl::StatusOr<size_t>> File::read_at(uint64_t offset, std::span<std::byte> buf) {
  OpScope scope(this);
  if (!readable_ && fd_ >= 0) co_return detail::errno_error(EBADF, "read", path_);
  Chunk chunk = take_spare(std::max<size_t>(buf.size(), 1));
  size_t want = buf.size();
  // The task is made in its own statement: g++ 12 destroys a capturing
  // lambda written inside a co_await expression twice (see unblock.h).
  auto task = run_settled(
      "read", false,
      [chunk = std::move(chunk), want, offset](int fd, const std::filesystem::path& path) mutable {
        FileJobResult r{absl::OkStatus(), std::move(chunk)};
        for (;;) {
          ssize_t n = ::pread(fd, r.chunk.data.get(), want, static_cast<off_t>(offset));
          if (n >= 0) {
            r.chunk.len = static_cast<size_t>(n);
            return r;
          }
          if (errno != EINTR) {
            r.status = detail::errno_error(errno, "read", path);
            return r;
          }
        }
      });
  FileJobResult r = co_await std::move(task);
  if (!r.status.ok()) co_return r.status;
  size_t n = r.chunk.len;
  if (n) std::memcpy(buf.data(), r.chunk.data.get(), n);
  recycle(std::move(r.chunk));
  co_return n;
}

Task<absl::StatusOr<size_t>> File::write_at(uint64_t offset, std::span<const std::byte> data) {
  OpScope scope(this);
  if (!writable_ && fd_ >= 0) co_return detail::errno_error(EBADF, "write", path_);
  Chunk chunk = take_spare(std::max<size_t>(data.size(), 1));
  if (!data.empty()) std::memcpy(chunk.data.get(), data.data(), data.size());
  chunk.len = data.size();
  auto task = run_settled(  // its own statement: see read_at
      "write", true,
      [chunk = std::move(chunk), offset](int fd, const std::filesystem::path& path) mutable {
        FileJobResult r{absl::OkStatus(), std::move(chunk)};
        size_t done = 0;
        while (done < r.chunk.len) {
          ssize_t n = ::pwrite(fd, r.chunk.data.get() + done, r.chunk.len - done,
                               static_cast<off_t>(offset + done));
          if (n < 0) {
            if (errno == EINTR) continue;
            r.status = detail::errno_error(errno, "write", path);
            return r;
          }
          done += static_cast<size_t>(n);
        }
        r.value = done;
        return r;
      });
  FileJobResult r = co_await std::move(task);
  recycle(std::move(r.chunk));
  if (!r.status.ok()) co_return r.status;
  co_return static_cast<size_t>(r.value);
}

Task<absl::StatusOr<uint64_t>> File::seek(SeekFrom pos) {
  OpScope scope(this);
  // run_settled seeks the offset back over dropped read-ahead first, so a
  // relative seek starts from the File's own position.
  FileJobResult r =
      co_await run_settled("seek", true, [pos](int fd, const std::filesystem::path& path) {
        int whence = pos.origin == SeekFrom::Origin::kStart     ? SEEK_SET
                     : pos.origin == SeekFrom::Origin::kCurrent ? SEEK_CUR
                                                                : SEEK_END;
        off_t off = ::lseek(fd, static_cast<off_t>(pos.offset), whence);
        if (off < 0) return failed(detail::errno_error(errno, "seek", path));
        FileJobResult r;
        r.value = static_cast<uint64_t>(off);
        return r;
      });
  if (!r.status.ok()) co_return r.status;
  co_return r.value;
}

Task<absl::Status> File::flush() {
  OpScope scope(this);
  if (absl::Status st = check_open("flush"); !st.ok()) co_return st;
  co_return co_await drain_writes();
}

Task<absl::Status> File::sync_all() {
  OpScope scope(this);
  FileJobResult r =
      co_await run_settled("fsync", false, [](int fd, const std::filesystem::path& path) {
        if (::fsync(fd) != 0) return failed(detail::errno_error(errno, "fsync", path));
        return FileJobResult{};
      });
  co_return r.status;
}

Task<absl::Status> File::sync_data() {
  OpScope scope(this);
  FileJobResult r =
      co_await run_settled("fdatasync", false, [](int fd, const std::filesystem::path& path) {
        if (::fdatasync(fd) != 0) {
          return failed(detail::errno_error(errno, "fdatasync", path));
        }
        return FileJobResult{};
      });
  co_return r.status;
}

Task<absl::Status> File::set_len(uint64_t len) {
  OpScope scope(this);
  FileJobResult r =
      co_await run_settled("truncate", true, [len](int fd, const std::filesystem::path& path) {
        if (::ftruncate(fd, static_cast<off_t>(len)) != 0) {
          return failed(detail::errno_error(errno, "truncate", path));
        }
        return FileJobResult{};
      });
  co_return r.status;
}

Task<absl::StatusOr<Metadata>> File::metadata() {
  OpScope scope(this);
  FileJobResult r =
      co_await run_settled("stat", false, [](int fd, const std::filesystem::path& path) {
        FileJobResult r;
        if (::fstat(fd, &r.st) != 0) r.status = detail::errno_error(errno, "stat", path);
        return r;
      });
  if (!r.status.ok()) co_return r.status;
  co_return Metadata(r.st);
}

Task<absl::Status> File::close() {
  OpScope scope(this);
  if (absl::Status st = check_open("close"); !st.ok()) co_return st;
  absl::Status flushed = co_await drain_writes();
  co_await settle_read();
  // From here the File is closed whatever happens. The close job is kept
  // in pending_: if this operation is cancelled, the destructor detaches
  // it instead of dropping it, so the descriptor is closed all the same.
  int fd = std::exchange(fd_, -1);
  rbuf_ = Chunk{};
  next_ = Chunk{};
  spare_ = Chunk{};
  wbuf_ = Chunk{};
  rpos_ = 0;
  pending_kind_ = Pending::kOther;
  pending_.emplace(unblock([fd, path = path_] {
    if (::close(fd) != 0) return failed(detail::errno_error(errno, "close", path));
    return FileJobResult{};
  }));
  FileJobResult r = co_await *pending_;
  pending_.reset();
  pending_kind_ = Pending::kNone;
  co_return flushed.ok() ? r.status : flushed;
}

}  // namespace weft::fs
