// OwnedFd: a file descriptor that closes itself, exactly once.
//
// What it is for: ownership of a raw descriptor across weft's components
// (Async<OwnedFd> in async_fd/, the fs:: functions and fs::File on the
// blocking pool's threads). Move-only; a moved-from or default OwnedFd holds
// -1 and closes nothing.
//
// Guarantees: the destructor and reset() close the held descriptor and
// ignore close(2)'s result; close() does the same but reports it. On Linux
// the descriptor is released even when close fails (EINTR included), so
// neither ever retries.
//
// Requires: the descriptor is not owned by anything else (no other OwnedFd,
// FILE*, or Async<T>), or it would be closed twice.
//
// Example (also in base/owned_fd_test.cc):
//   weft::OwnedFd fd(::socket(AF_INET, SOCK_STREAM, 0));
//   if (!fd) return errno_status(errno, "socket");
//   auto s = weft::Async<weft::OwnedFd>::create(std::move(fd));
#ifndef WEFT_BASE_OWNED_FD_H_
#define WEFT_BASE_OWNED_FD_H_

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace weft {

class OwnedFd {
 public:
  OwnedFd() noexcept = default;
  explicit OwnedFd(int fd) noexcept : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }

  int get() const noexcept { return fd_; }
  int native_handle() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the held descriptor (if any), ignoring close(2)'s result, and
  // takes `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  // Closes the descriptor now; returns close(2)'s errno, or 0 (also when
  // nothing was held). For callers that must report a failed close, e.g. a
  // written file whose data may not have reached the disk.
  int close() noexcept {
    if (fd_ < 0) return 0;
    int rc = ::close(std::exchange(fd_, -1));
    // Linux releases the descriptor even when close fails: never retry.
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

}  // namespace weft

#endif  // WEFT_BASE_OWNED_FD_H_
