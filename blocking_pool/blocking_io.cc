#include "blocking_pool/blocking_io.h"

#include <unistd.h>

#include <cerrno>

#include "blocking_pool/fs_error.h"

namespace weft {

BlockingFd& BlockingFd::operator=(BlockingFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    name_ = std::move(o.name_);
  }
  return *this;
}

BlockingFd::~BlockingFd() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<size_t> BlockingFd::read(std::span<std::byte> buf) {
  for (;;) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return fs::detail::errno_error(errno, "read", name_);
  }
}

absl::StatusOr<size_t> BlockingFd::write(std::span<const std::byte> data) {
  for (;;) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return fs::detail::errno_error(errno, "write", name_);
  }
}

StdioFile& StdioFile::operator=(StdioFile&& o) noexcept {
  if (this != &o) {
    reset();
    f_ = std::exchange(o.f_, nullptr);
    name_ = std::move(o.name_);
    owned_ = o.owned_;
  }
  return *this;
}

StdioFile::~StdioFile() { reset(); }

void StdioFile::reset() noexcept {
  if (!f_) return;
  if (owned_) {
    std::fclose(f_);
  } else {
    std::fflush(f_);
  }
  f_ = nullptr;
}

absl::StatusOr<size_t> StdioFile::read(std::span<std::byte> buf) {
  std::clearerr(f_);
  size_t n = std::fread(buf.data(), 1, buf.size(), f_);
  if (n == 0 && std::ferror(f_)) return fs::detail::errno_error(errno, "read", name_);
  return n;
}

absl::StatusOr<size_t> StdioFile::write(std::span<const std::byte> data) {
  size_t n = std::fwrite(data.data(), 1, data.size(), f_);
  if (n < data.size() && std::ferror(f_)) {
    int err = errno;
    std::clearerr(f_);
    if (n == 0) return fs::detail::errno_error(err, "write", name_);
  }
  return n;
}

absl::Status StdioFile::flush() {
  if (std::fflush(f_) != 0) return fs::detail::errno_error(errno, "flush", name_);
  return absl::OkStatus();
}

}  // namespace weft
