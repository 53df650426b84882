#include "async_fd/unix.h"

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace weft {
namespace {

// Two connected sockets of `type`, non-blocking, registered.
absl::StatusOr<std::pair<Async<OwnedFd>, Async<OwnedFd>>> async_pair(int type, const char* what) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return errno_status(errno, what);
  }
  OwnedFd x(fds[0]);
  OwnedFd y(fds[1]);
  auto a = Async<OwnedFd>::create(std::move(x));
  if (!a.ok()) return a.status();
  auto b = Async<OwnedFd>::create(std::move(y));
  if (!b.ok()) return b.status();
  return std::pair<Async<OwnedFd>, Async<OwnedFd>>(*std::move(a), *std::move(b));
}

// A new socket of `type`, bound to `addr`, not yet registered.
absl::StatusOr<OwnedFd> bound_socket(int type, const UnixAddress& addr, absl::string_view what) {
  auto fd = detail::new_socket(AF_UNIX, type, what);
  if (!fd.ok()) return fd.status();
  if (::bind(fd->get(), addr.data(), addr.size()) != 0) {
    return errno_status(errno, absl::StrCat(what, ": bind"));
  }
  return fd;
}

}  // namespace

// --- UnixStream ----------------------------------------------------------

Task<absl::StatusOr<UnixStream>> UnixStream::connect(UnixAddress addr) {
  std::string what = absl::StrCat("UnixStream::connect(", addr.to_string(), ")");
  auto fd = detail::new_socket(AF_UNIX, SOCK_STREAM, what);
  if (!fd.ok()) co_return fd.status();
  // Linux connects Unix stream sockets at once, or fails (EAGAIN when the
  // listener's backlog is full); EINPROGRESS is handled all the same.
  const bool in_progress = ::connect(fd->get(), addr.data(), addr.size()) != 0;
  if (in_progress && errno != EINPROGRESS && errno != EINTR) co_return errno_status(errno, what);
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) co_return a.status();
  UnixStream s(*std::move(a));
  if (in_progress) {
    absl::Status st = co_await s.finish_connect(std::move(what));
    if (!st.ok()) co_return st;
  }
  co_return std::move(s);
}

Task<absl::StatusOr<UnixStream>> UnixStream::connect(std::string path) {
  auto addr = UnixAddress::from_path(path);
  if (!addr.ok()) co_return addr.status();
  co_return co_await connect(*std::move(addr));
}

absl::StatusOr<std::pair<UnixStream, UnixStream>> UnixStream::pair() {
  auto p = async_pair(SOCK_STREAM, "UnixStream::pair: socketpair");
  if (!p.ok()) return p.status();
  return std::pair<UnixStream, UnixStream>(UnixStream(std::move(p->first)),
                                           UnixStream(std::move(p->second)));
}

absl::StatusOr<UnixStream> UnixStream::from_fd(OwnedFd&& fd) {
  absl::Status st = detail::check_socket(fd.get(), SOCK_STREAM, {AF_UNIX}, "UnixStream::from_fd");
  if (!st.ok()) return st;
  auto a = Async<OwnedFd>::create(std::move(fd));
  if (!a.ok()) return a.status();
  return UnixStream(*std::move(a));
}

absl::StatusOr<UnixAddress> UnixStream::local_address() const {
  return sock_name<UnixAddress>(false, "UnixStream::local_address");
}

absl::StatusOr<UnixAddress> UnixStream::peer_address() const {
  return sock_name<UnixAddress>(true, "UnixStream::peer_address");
}

absl::Status UnixStream::shutdown(Shutdown how) const {
  return shutdown_impl(how, "UnixStream::shutdown");
}

detail::SysIo UnixStream::peek(void* buf, size_t len) {
  return recv_flags(buf, len, MSG_PEEK, detail::ready::kReadable, "UnixStream::peek");
}

// --- UnixListener --------------------------------------------------------

absl::StatusOr<UnixListener> UnixListener::bind(const UnixAddress& addr) {
  const std::string what = absl::StrCat("UnixListener::bind(", addr.to_string(), ")");
  auto fd = bound_socket(SOCK_STREAM, addr, what);
  if (!fd.ok()) return fd.status();
  if (::listen(fd->get(), kBacklog) != 0) {
    return errno_status(errno, absl::StrCat(what, ": listen"));
  }
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) return a.status();
  return UnixListener(*std::move(a));
}

absl::StatusOr<UnixListener> UnixListener::bind(std::string_view path) {
  auto addr = UnixAddress::from_path(path);
  if (!addr.ok()) return addr.status();
  return bind(*addr);
}

absl::StatusOr<UnixListener> UnixListener::from_fd(OwnedFd&& fd) {
  absl::Status st =
      detail::check_socket(fd.get(), SOCK_STREAM, {AF_UNIX}, "UnixListener::from_fd");
  if (!st.ok()) return st;
  auto a = Async<OwnedFd>::create(std::move(fd));
  if (!a.ok()) return a.status();
  return UnixListener(*std::move(a));
}

Task<absl::StatusOr<std::pair<UnixStream, UnixAddress>>> UnixListener::accept() {
  detail::RawAddress peer;
  auto fd = co_await accept_fd(&peer, "UnixListener::accept");
  if (!fd.ok()) co_return fd.status();
  auto addr = UnixAddress::from_sockaddr(peer.sa(), peer.len);
  if (!addr.ok()) co_return addr.status();
  auto a = Async<OwnedFd>::create(OwnedFd(static_cast<int>(*fd)));
  if (!a.ok()) co_return a.status();
  co_return std::pair<UnixStream, UnixAddress>(UnixStream(*std::move(a)), *addr);
}

absl::StatusOr<UnixAddress> UnixListener::local_address() const {
  return sock_name<UnixAddress>(false, "UnixListener::local_address");
}

// --- UnixDatagram --------------------------------------------------------

absl::StatusOr<UnixDatagram> UnixDatagram::bind(const UnixAddress& addr) {
  auto fd = bound_socket(SOCK_DGRAM, addr,
                         absl::StrCat("UnixDatagram::bind(", addr.to_string(), ")"));
  if (!fd.ok()) return fd.status();
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) return a.status();
  return UnixDatagram(*std::move(a));
}

absl::StatusOr<UnixDatagram> UnixDatagram::bind(std::string_view path) {
  auto addr = UnixAddress::from_path(path);
  if (!addr.ok()) return addr.status();
  return bind(*addr);
}

absl::StatusOr<UnixDatagram> UnixDatagram::unbound() {
  auto fd = detail::new_socket(AF_UNIX, SOCK_DGRAM, "UnixDatagram::unbound");
  if (!fd.ok()) return fd.status();
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) return a.status();
  return UnixDatagram(*std::move(a));
}

absl::StatusOr<std::pair<UnixDatagram, UnixDatagram>> UnixDatagram::pair() {
  auto p = async_pair(SOCK_DGRAM, "UnixDatagram::pair: socketpair");
  if (!p.ok()) return p.status();
  return std::pair<UnixDatagram, UnixDatagram>(UnixDatagram(std::move(p->first)),
                                               UnixDatagram(std::move(p->second)));
}

absl::StatusOr<UnixDatagram> UnixDatagram::from_fd(OwnedFd&& fd) {
  absl::Status st = detail::check_socket(fd.get(), SOCK_DGRAM, {AF_UNIX}, "UnixDatagram::from_fd");
  if (!st.ok()) return st;
  auto a = Async<OwnedFd>::create(std::move(fd));
  if (!a.ok()) return a.status();
  return UnixDatagram(*std::move(a));
}

absl::Status UnixDatagram::connect(const UnixAddress& peer) const {
  return connect_datagram(peer.data(), peer.size(),
                          absl::StrCat("UnixDatagram::connect(", peer.to_string(), ")"));
}

Task<absl::StatusOr<size_t>> UnixDatagram::send_to(const void* buf, size_t len,
                                                   const UnixAddress& to) {
  return send_to_raw(buf, len, to.data(), to.size(), "UnixDatagram::send_to");
}

Task<absl::StatusOr<std::pair<size_t, UnixAddress>>> UnixDatagram::recv_from(void* buf,
                                                                             size_t len) {
  detail::RawAddress from;
  auto n = co_await recv_from_raw(buf, len, 0, &from, "UnixDatagram::recv_from");
  if (!n.ok()) co_return n.status();
  auto addr = UnixAddress::from_sockaddr(from.sa(), from.len);
  if (!addr.ok()) co_return addr.status();
  co_return std::pair<size_t, UnixAddress>(*n, *addr);
}

detail::SysIo UnixDatagram::send(const void* buf, size_t len) {
  return send_flags(buf, len, 0, kDatagramWrite, "UnixDatagram::send");
}

detail::SysIo UnixDatagram::recv(void* buf, size_t len) {
  return recv_flags(buf, len, 0, kDatagramRead, "UnixDatagram::recv");
}

absl::StatusOr<UnixAddress> UnixDatagram::local_address() const {
  return sock_name<UnixAddress>(false, "UnixDatagram::local_address");
}

absl::StatusOr<UnixAddress> UnixDatagram::peer_address() const {
  return sock_name<UnixAddress>(true, "UnixDatagram::peer_address");
}

absl::Status UnixDatagram::shutdown(Shutdown how) const {
  return shutdown_impl(how, "UnixDatagram::shutdown");
}

}  // namespace weft
