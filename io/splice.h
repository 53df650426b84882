// splice_copy: weft::copy between two fd streams without copying through
// user space (issue #12).
//
// What it is for: a proxy that pumps one socket into another should not
// read every byte into a buffer and write it out again. splice(2) moves
// pages from the source socket into a pipe and from the pipe into the
// destination, inside the kernel.
//
// Which streams: `SpliceStream` is any stream with fd() and Async's
// read_with / write_with (TcpStream, UnixStream, Async<OwnedFd>, a child's
// pipes, a user's Async<T>). The calls go through read_with / write_with,
// so they keep Async's guarantees: a wait for readiness on EAGAIN without
// losing an edge, the fd pinned against a concurrent close(), the
// cooperative budget.
//
// Guarantees:
//   - Returns the bytes moved once the source ends (a 0-byte splice), like
//     copy(). Errors are the streams' own statuses from read_with /
//     write_with, or splice's errno mapped as everywhere in weft.
//   - Refusal: when the kernel will not splice these fds (EINVAL: e.g. a
//     destination that is not a pipe and has O_APPEND set, or an fd type
//     without splice support such as an eventfd) before any byte
//     reached the destination, splice_copy returns FailedPrecondition and
//     what it had taken from the source is already written to the
//     destination through a buffer; copy() goes on with its buffer
//     instead. After bytes moved, EINVAL is an error like any other.
//   - Lose nothing between the two halves: every byte spliced into the
//     intermediate pipe is spliced out to the destination before the next
//     read from the source; an error on the destination is returned (the
//     count of what got through is lost with it, as in copy()).
//   - One pipe (two fds) per call, closed on every return path.
//
// Example:
//   auto n = co_await weft::copy(client, upstream);   // splices both ways of a proxy
#ifndef WEFT_IO_SPLICE_H_
#define WEFT_IO_SPLICE_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/errno_status.h"
#include "executor/task.h"
#include "io/write_all.h"

namespace weft {

// A stream whose bytes splice(2) can move: an fd, and Async's
// readiness-retrying read_with / write_with.
template <class S>
concept SpliceStream = requires(S& s) {
  { s.fd() } -> std::convertible_to<int>;
  s.read_with([](auto&) { return ssize_t{0}; });
  s.write_with([](auto&) { return ssize_t{0}; });
};

namespace detail {

// The intermediate pipe's two ends, closed on destruction.
struct SplicePipe {
  int read_end = -1;
  int write_end = -1;
  SplicePipe() = default;
  SplicePipe(const SplicePipe&) = delete;
  SplicePipe& operator=(const SplicePipe&) = delete;
  ~SplicePipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
};

// Bytes asked of each splice from the source: a default pipe's capacity
// (16 pages), so the pipe never fills and the second half drains it whole.
inline constexpr size_t kSpliceChunk = 64 * 1024;

// A SpliceStream as an AsyncWrite whose write() is one write(2) through
// write_with (readiness waits and the close pin as for splice), so that
// the fallback below writes with write_all like everything else in io/.
template <class W>
struct FdWriter {
  W& w;
  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data) {
    for (;;) {
      absl::StatusOr<ssize_t> n = co_await w.write_with([&](auto&) {
        const ssize_t r = ::write(w.fd(), data.data(), data.size());
        return r < 0 ? -static_cast<ssize_t>(errno) : r;  // errno kept (EAGAIN: retried)
      });
      if (!n.ok()) co_return n.status();
      if (*n == -EINTR) continue;
      if (*n < 0) co_return errno_status(static_cast<int>(-*n), "write");
      co_return static_cast<size_t>(*n);
    }
  }
};

}  // namespace detail

namespace detail {

// The pump behind splice_copy and copy(). Sets *refused when the kernel
// refused to splice these fds (EINVAL) before any byte reached `w`; every
// byte taken from `r` by then has been written to `w` through a buffer, and
// the result is their count, so the caller can go on copying another way.
template <SpliceStream R, SpliceStream W>
Task<absl::StatusOr<uint64_t>> splice_pump(R& r, W& w, bool* refused) {
  *refused = false;
  SplicePipe pipe;
  {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) co_return errno_status(errno, "pipe2");
    pipe.read_end = fds[0];
    pipe.write_end = fds[1];
  }
  uint64_t total = 0;
  for (;;) {
    // Source -> pipe. The pipe is empty here, so EAGAIN can only mean the
    // source has nothing yet: read_with then waits for readability.
    absl::StatusOr<ssize_t> in = co_await r.read_with([&](auto&) {
      const ssize_t n = ::splice(r.fd(), nullptr, pipe.write_end, nullptr, kSpliceChunk,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      return n < 0 ? -static_cast<ssize_t>(errno) : n;  // errno kept (EAGAIN: retried)
    });
    if (!in.ok()) co_return in.status();
    if (*in < 0) {
      const int err = static_cast<int>(-*in);
      if (err == EINTR) continue;
      if (err == EINVAL && total == 0) {
        *refused = true;  // nothing was taken from r
        co_return uint64_t{0};
      }
      co_return errno_status(err, "splice");
    }
    if (*in == 0) co_return total;
    // Pipe -> destination, until the pipe is empty.
    size_t left = static_cast<size_t>(*in);
    while (left > 0) {
      absl::StatusOr<ssize_t> out = co_await w.write_with([&](auto&) {
        const ssize_t n = ::splice(pipe.read_end, nullptr, w.fd(), nullptr, left,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        return n < 0 ? -static_cast<ssize_t>(errno) : n;
      });
      if (!out.ok()) co_return out.status();
      if (*out < 0) {
        const int err = static_cast<int>(-*out);
        if (err == EINTR) continue;
        if (err == EINVAL && total == 0) {
          // The destination refuses splice: write what the pipe holds
          // through a buffer, so nothing taken from r is lost.
          auto buf = std::make_unique<std::byte[]>(left);
          const ssize_t got = ::read(pipe.read_end, buf.get(), left);
          if (got != static_cast<ssize_t>(left)) co_return errno_status(errno, "read");
          FdWriter<W> to_w{w};
          absl::Status st =
              co_await write_all(to_w, std::span<const std::byte>(buf.get(), left));
          if (!st.ok()) co_return st;
          *refused = true;
          co_return static_cast<uint64_t>(left);
        }
        co_return errno_status(err, "splice");
      }
      if (*out == 0) co_return absl::DataLossError("splice: the destination took 0 bytes");
      left -= static_cast<size_t>(*out);
      total += static_cast<uint64_t>(*out);
    }
  }
}

}  // namespace detail

// Copies `r` to its end into `w` with splice(2) only; the byte count.
// FailedPrecondition when the kernel refuses to splice these fds (then
// nothing is lost: what was taken from r went to w, see above; copy()
// falls back to a buffer instead).
template <SpliceStream R, SpliceStream W>
Task<absl::StatusOr<uint64_t>> splice_copy(R& r, W& w) {
  bool refused = false;
  absl::StatusOr<uint64_t> n = co_await detail::splice_pump(r, w, &refused);
  if (refused) {
    co_return absl::FailedPreconditionError(
        "splice: the kernel refuses to splice these fds (use copy(), which falls back)");
  }
  co_return n;
}

}  // namespace weft

#endif  // WEFT_IO_SPLICE_H_
