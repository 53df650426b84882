// Blocking readers and writers that Unblock<T> can drive, and the concepts
// that say what one is.
//
// What it is for: Unblock<T> (unblock_io.h) moves a blocking stream to the
// blocking pool for every read or write. The stream type only needs these
// members (all called on a pool thread, one at a time):
//
//   absl::StatusOr<size_t> read(std::span<std::byte>)         // 0: the end
//   absl::StatusOr<size_t> write(std::span<const std::byte>)  // may be partial
//   absl::Status flush()                                       // optional
//
// Two are ready-made: BlockingFd, a file descriptor read and written with
// plain read(2)/write(2) (a pipe, a terminal, stdin/stdout, a regular
// file), and StdioFile, a C FILE* (fread/fwrite/fflush). Wrap anything else
// (a blocking C library's stream) the same way.
//
// Example:
//   weft::Unblock<weft::BlockingFd> in(weft::BlockingFd(::dup(0), "stdin"));
//   weft::Unblock<weft::StdioFile> out(weft::StdioFile(stdout, "stdout"));
#ifndef WEFT_BLOCKING_POOL_BLOCKING_IO_H_
#define WEFT_BLOCKING_POOL_BLOCKING_IO_H_

#include <concepts>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weft {

template <class T>
concept BlockingReader = std::movable<T> && requires(T& t, std::span<std::byte> buf) {
  { t.read(buf) } -> std::convertible_to<absl::StatusOr<size_t>>;
};

template <class T>
concept BlockingWriter = std::movable<T> && requires(T& t, std::span<const std::byte> data) {
  { t.write(data) } -> std::convertible_to<absl::StatusOr<size_t>>;
};

template <class T>
concept BlockingFlush = requires(T& t) {
  { t.flush() } -> std::convertible_to<absl::Status>;
};

// An owned file descriptor, read and written with blocking system calls.
// `name` labels it in error messages ("read \"stdin\": ...").
class BlockingFd {
 public:
  explicit BlockingFd(int fd, std::string name = "fd") : fd_(fd), name_(std::move(name)) {}
  BlockingFd(BlockingFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)) {}
  BlockingFd& operator=(BlockingFd&& o) noexcept;
  BlockingFd(const BlockingFd&) = delete;
  BlockingFd& operator=(const BlockingFd&) = delete;
  ~BlockingFd();

  absl::StatusOr<size_t> read(std::span<std::byte> buf);
  absl::StatusOr<size_t> write(std::span<const std::byte> data);
  int fd() const { return fd_; }
  // Gives up ownership.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
  std::string name_;
};

// A C stream. Owned streams are fclose'd on destruction; others (stdout) are
// only flushed.
class StdioFile {
 public:
  StdioFile(std::FILE* f, std::string name, bool owned = false)
      : f_(f), name_(std::move(name)), owned_(owned) {}
  StdioFile(StdioFile&& o) noexcept
      : f_(std::exchange(o.f_, nullptr)), name_(std::move(o.name_)), owned_(o.owned_) {}
  StdioFile& operator=(StdioFile&& o) noexcept;
  StdioFile(const StdioFile&) = delete;
  StdioFile& operator=(const StdioFile&) = delete;
  ~StdioFile();

  absl::StatusOr<size_t> read(std::span<std::byte> buf);
  absl::StatusOr<size_t> write(std::span<const std::byte> data);
  absl::Status flush();
  std::FILE* get() const { return f_; }

 private:
  void reset() noexcept;

  std::FILE* f_;
  std::string name_;
  bool owned_;
};

}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_BLOCKING_IO_H_
