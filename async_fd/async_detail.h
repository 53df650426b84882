// The pieces Async<T> (async.h) is built from: how it finds a T's fd and
// sets it non-blocking, how read_with/write_with recognise "would block" in
// an op's result, the attempts IoOp (io_op.h) retries, and the plain
// syscalls of Async<T> and the socket types. Internal: include async.h.
#ifndef WEFT_ASYNC_FD_ASYNC_DETAIL_H_
#define WEFT_ASYNC_FD_ASYNC_DETAIL_H_

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "async_fd/io_op.h"
#include "async_fd/io_status.h"

namespace weft {
namespace detail {

template <class T>
int fd_of(T& t) {
  if constexpr (std::is_same_v<T, int>) {
    return t;
  } else if constexpr (requires { t.native_handle(); }) {
    return static_cast<int>(t.native_handle());
  } else {
    static_assert(requires { t.get(); }, "Async<T>: T must be int, or have native_handle() or get()");
    return static_cast<int>(t.get());
  }
}

// Types with their own non-blocking flag (Asio sockets): set it too, or their
// synchronous calls would wait internally instead of reporting would_block.
template <class T>
void set_own_non_blocking(T& t, bool on) {
  if constexpr (requires(std::error_code& ec) { t.non_blocking(on, ec); }) {
    std::error_code ec;
    t.non_blocking(on, ec);
  }
}

inline bool is_would_block(const std::error_code& ec) noexcept {
  if (ec == std::errc::operation_would_block || ec == std::errc::resource_unavailable_try_again) {
    return true;
  }
  // Asio reports errno values in its own "asio.system" category, which does
  // not map them to std::errc: compare the raw value there.
  return (ec.value() == EAGAIN || ec.value() == EWOULDBLOCK) &&
         std::string_view(ec.category().name()) == "asio.system";
}

template <class R>
bool op_would_block(const R& r, int err) noexcept {
  if constexpr (std::is_arithmetic_v<R>) {
    return r < 0 && (err == EAGAIN || err == EWOULDBLOCK);
  } else if constexpr (std::is_convertible_v<const R&, const std::error_code&>) {
    return is_would_block(r);
  } else if constexpr (requires { r.second; } &&
                       std::is_convertible_v<decltype(r.second), const std::error_code&>) {
    return is_would_block(r.second);
  } else {
    static_assert(sizeof(R) == 0,
                  "read_with/write_with: op must return a number (errno style), a "
                  "std::error_code, or a std::pair<X, std::error_code>");
    return false;
  }
}

// read_with / write_with's attempt: calls the user's op once and sorts its
// result into would-block or done (IoOp, io_op.h).
template <class Op>
struct WithAttempt {
  using R = std::invoke_result_t<Op&>;
  using Out = absl::StatusOr<R>;
  Op op;
  IoAttempt operator()(Out& out) {
    try {
      errno = 0;
      R r = op();
      if (op_would_block(r, errno)) return IoAttempt::kWouldBlock;
      out = std::move(r);
      return IoAttempt::kDone;
    } catch (const std::system_error& e) {
      if (!is_would_block(e.code())) throw;
      return IoAttempt::kWouldBlock;
    }
  }
};

// A syscall given as a callable returning ssize_t (-1 with errno), for the
// socket types' calls that carry more than SysCall holds (addresses).
template <class Sys>
struct LambdaAttempt {
  using Out = absl::StatusOr<size_t>;
  Sys sys;
  const char* what;
  IoAttempt operator()(Out& out) {
    const ssize_t n = sys();
    if (n >= 0) {
      out = static_cast<size_t>(n);
      return IoAttempt::kDone;
    }
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return IoAttempt::kWouldBlock;
    out = errno_status(err, what);
    return IoAttempt::kDone;
  }
};

// The plain syscalls of Async<T> and the socket types, as SysCall::call.
// read and write are tried once (EINTR is returned as an error, as
// before); the socket calls repeat an EINTR.
namespace sys {
inline ssize_t read(const SysCall& c) { return ::read(c.fd, c.buf, c.len); }
inline ssize_t write(const SysCall& c) { return ::write(c.fd, c.buf, c.len); }
inline ssize_t readv(const SysCall& c) {
  return ::readv(c.fd, static_cast<const iovec*>(c.buf), static_cast<int>(c.len));
}
inline ssize_t writev(const SysCall& c) {
  return ::writev(c.fd, static_cast<const iovec*>(c.buf), static_cast<int>(c.len));
}
inline ssize_t send(const SysCall& c) {
  ssize_t r;
  do {
    r = ::send(c.fd, c.buf, c.len, c.flags | MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r;
}
inline ssize_t sendmsg(const SysCall& c) {
  msghdr msg{};
  msg.msg_iov = static_cast<iovec*>(c.buf);
  msg.msg_iovlen = c.len;
  ssize_t r;
  do {
    r = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r;
}
inline ssize_t recv(const SysCall& c) {
  ssize_t r;
  do {
    r = ::recv(c.fd, c.buf, c.len, c.flags);
  } while (r < 0 && errno == EINTR);
  return r;
}
}  // namespace sys

}  // namespace detail
}  // namespace weft

#endif  // WEFT_ASYNC_FD_ASYNC_DETAIL_H_
