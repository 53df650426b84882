// UniqueFd: owns a file descriptor and closes it once. Internal to
// blocking_pool/ (the fs:: functions and fs::File use it on pool threads).
#ifndef WEFT_BLOCKING_POOL_UNIQUE_FD_H_
#define WEFT_BLOCKING_POOL_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace weft::fs::detail {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the descriptor now; returns close(2)'s errno, or 0.
  int close() noexcept {
    if (fd_ < 0) return 0;
    int rc = ::close(std::exchange(fd_, -1));
    // Linux releases the descriptor even when close fails (EINTR included):
    // never retry, report.
    return rc == 0 ? 0 : errno;
  }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace weft::fs::detail

#endif  // WEFT_BLOCKING_POOL_UNIQUE_FD_H_
