#include "async_fd/socket_base.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace weft {
namespace detail {
namespace {

// Repeats a non-blocking call interrupted by a signal before it did anything.
template <class F>
ssize_t no_eintr(F f) {
  ssize_t r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

const char* family_name(int family) {
  switch (family) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
    default: return "another family";
  }
}

}  // namespace

absl::StatusOr<OwnedFd> new_socket(int family, int type, absl::string_view what) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status(errno, absl::StrCat(what, ": socket"));
  return OwnedFd(fd);
}

absl::Status check_socket(int fd, int type, std::initializer_list<int> families,
                          absl::string_view what) {
  int got_type = 0;
  int got_family = 0;
  socklen_t len = sizeof got_type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &got_type, &len) != 0) {
    return errno_status(errno, absl::StrCat(what, ": fd ", fd, " is not a socket"));
  }
  len = sizeof got_family;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &got_family, &len) != 0) {
    return errno_status(errno, absl::StrCat(what, ": getsockopt(SO_DOMAIN) on fd ", fd));
  }
  if (got_type != type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: ", what, ": fd ", fd, " is a ", got_type == SOCK_STREAM ? "stream" : "non-stream",
        " socket; expected ", type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM"));
  }
  if (std::find(families.begin(), families.end(), got_family) == families.end()) {
    return absl::InvalidArgumentError(absl::StrCat("weft: ", what, ": fd ", fd, " is an ",
                                                   family_name(got_family), " socket"));
  }
  return absl::OkStatus();
}

Task<absl::Status> SocketBase::finish_connect(std::string what) {
  const int fd = this->fd();
  auto outcome = [fd]() -> ssize_t {
    // The connect's outcome, once the socket is writable: SO_ERROR holds
    // (and clears) a failure; getpeername succeeds once connected.
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1;
    if (err != 0) {
      errno = err;
      return -1;
    }
    RawAddress peer;
    if (::getpeername(fd, peer.sa(), &peer.len) == 0) return 0;
    if (errno != ENOTCONN) return -1;
    // Not connected and no error: either still in progress (the
    // registration starts out optimistically writable), so wait for
    // writability, or the failure landed between the two calls above.
    len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
      errno = err;
      return -1;
    }
    errno = EAGAIN;
    return -1;
  };
  auto r = co_await sys_io(ready::kWriteInterest, ready::kWritable, what.c_str(), outcome);
  co_return r.ok() ? absl::OkStatus() : r.status();
}

namespace {
ssize_t accept_call(const SysCall& c) {
  auto* peer = static_cast<RawAddress*>(c.buf);
  return no_eintr([&] {
    peer->len = sizeof peer->storage;
    return static_cast<ssize_t>(
        ::accept4(c.fd, peer->sa(), &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC));
  });
}
}  // namespace

SysIo SocketBase::accept_fd(RawAddress* peer, const char* what) {
  return sys_call(ready::kReadInterest, ready::kReadable,
                  {.call = &accept_call, .fd = this->fd(), .buf = peer, .what = what});
}

SysIo SocketBase::recv_flags(void* buf, size_t len, int flags, uint32_t clear, const char* what) {
  return sys_call(ready::kReadInterest, clear,
                  {.call = &sys::recv,
                   .fd = this->fd(),
                   .flags = flags,
                   .buf = buf,
                   .len = len,
                   .what = what,
                   // A peek leaves the bytes: the next read must not wait.
                   .drains = flags == 0 && drains()});
}

SysIo SocketBase::send_flags(const void* buf, size_t len, int flags, uint32_t clear,
                             const char* what) {
  return sys_call(ready::kWriteInterest, clear,
                  {.call = &sys::send,
                   .fd = this->fd(),
                   .flags = flags,
                   .buf = const_cast<void*>(buf),  // only read from
                   .len = len,
                   .what = what});
}

Task<absl::StatusOr<size_t>> SocketBase::recv_from_raw(void* buf, size_t len, int flags,
                                                       RawAddress* from, const char* what) {
  const int fd = this->fd();
  return sys_io(ready::kReadInterest, kDatagramRead, what, [fd, buf, len, flags, from] {
    return no_eintr([&] {
      from->len = sizeof from->storage;
      return ::recvfrom(fd, buf, len, flags, from->sa(), &from->len);
    });
  });
}

Task<absl::StatusOr<size_t>> SocketBase::send_to_raw(const void* buf, size_t len,
                                                     const sockaddr* to, socklen_t to_len,
                                                     const char* what) {
  const int fd = this->fd();
  // A copy travels with the operation: the caller's address may be a
  // temporary that is gone before the (lazy) task first runs.
  RawAddress dest;
  const bool has_dest = to != nullptr;
  if (has_dest) {
    dest.len = std::min<socklen_t>(to_len, sizeof dest.storage);
    std::memcpy(&dest.storage, to, dest.len);
  }
  return sys_io(ready::kWriteInterest, kDatagramWrite, what, [fd, buf, len, dest, has_dest] {
    return no_eintr([&] {
      return ::sendto(fd, buf, len, MSG_NOSIGNAL, has_dest ? dest.sa() : nullptr,
                      has_dest ? dest.len : 0);
    });
  });
}

absl::Status SocketBase::shutdown_impl(Shutdown how, const char* what) const {
  const int h = how == Shutdown::kRead ? SHUT_RD : how == Shutdown::kWrite ? SHUT_WR : SHUT_RDWR;
  return with_fd([&](int fd) -> absl::Status {
    if (::shutdown(fd, h) != 0) return errno_status(errno, what);
    return absl::OkStatus();
  });
}

absl::Status SocketBase::connect_datagram(const sockaddr* to, socklen_t len,
                                          absl::string_view what) const {
  return with_fd([&](int fd) -> absl::Status {
    if (no_eintr([&] { return static_cast<ssize_t>(::connect(fd, to, len)); }) != 0) {
      return errno_status(errno, what);
    }
    return absl::OkStatus();
  });
}

absl::Status SocketBase::set_int_option(int level, int name, int value, const char* what) const {
  return with_fd([&](int fd) -> absl::Status {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
      return errno_status(errno, what);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> SocketBase::get_int_option(int level, int name, const char* what) const {
  return with_fd([&](int fd) -> absl::StatusOr<int> {
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(fd, level, name, &value, &len) != 0) return errno_status(errno, what);
    return value;
  });
}

}  // namespace detail
}  // namespace weft
