// OwnedFd: a file descriptor that closes itself.
//
// Example:
//   weft::OwnedFd fd(::socket(AF_INET, SOCK_STREAM, 0));
//   auto s = weft::Async<weft::OwnedFd>::create(std::move(fd));
#ifndef WEFT_ASYNC_FD_OWNED_FD_H_
#define WEFT_ASYNC_FD_OWNED_FD_H_

#include <unistd.h>

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
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace weft

#endif  // WEFT_ASYNC_FD_OWNED_FD_H_
