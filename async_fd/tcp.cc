#include "async_fd/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace weft {

// --- TcpStream -----------------------------------------------------------

Task<absl::StatusOr<TcpStream>> TcpStream::connect(SocketAddress addr) {
  std::string what = absl::StrCat("TcpStream::connect(", addr.to_string(), ")");
  if (!addr.is_v4() && !addr.is_v6()) {
    co_return absl::InvalidArgumentError(absl::StrCat("weft: ", what, ": not an IP address"));
  }
  auto fd = detail::new_socket(addr.family(), SOCK_STREAM, what);
  if (!fd.ok()) co_return fd.status();
  // connect(2) before registering: an unconnected TCP socket polls as
  // EPOLLHUP, which the registration would keep.
  if (::connect(fd->get(), addr.data(), addr.size()) != 0 && errno != EINPROGRESS &&
      errno != EINTR) {  // EINTR: the connect goes on in the background
    co_return errno_status(errno, what);
  }
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) co_return a.status();
  TcpStream s(*std::move(a));
  absl::Status st = co_await s.finish_connect(std::move(what));
  if (!st.ok()) co_return st;
  co_return std::move(s);
}

absl::StatusOr<std::pair<TcpStream, TcpStream>> TcpStream::pair() {
  constexpr const char* kWhat = "TcpStream::pair";
  OwnedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return errno_status(errno, absl::StrCat(kWhat, ": socket"));
  const SocketAddress any_port = SocketAddress::loopback_v4(0);
  if (::bind(listener.get(), any_port.data(), any_port.size()) != 0 ||
      ::listen(listener.get(), 1) != 0) {
    return errno_status(errno, absl::StrCat(kWhat, ": bind/listen"));
  }
  sockaddr_storage at{};
  socklen_t at_len = sizeof(at);
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&at), &at_len) != 0) {
    return errno_status(errno, absl::StrCat(kWhat, ": getsockname"));
  }
  OwnedFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!client) return errno_status(errno, absl::StrCat(kWhat, ": socket"));
  int rc;
  do {
    rc = ::connect(client.get(), reinterpret_cast<sockaddr*>(&at), at_len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return errno_status(errno, absl::StrCat(kWhat, ": connect"));
  sockaddr_in mine{};
  socklen_t mine_len = sizeof(mine);
  if (::getsockname(client.get(), reinterpret_cast<sockaddr*>(&mine), &mine_len) != 0) {
    return errno_status(errno, absl::StrCat(kWhat, ": getsockname"));
  }
  OwnedFd server;
  while (!server) {
    sockaddr_in peer{};
    socklen_t peer_len = sizeof(peer);
    // Blocking: our connection is already queued, so this returns at once.
    OwnedFd got(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len,
                          SOCK_CLOEXEC));
    if (!got) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return errno_status(errno, absl::StrCat(kWhat, ": accept"));
    }
    if (peer.sin_port == mine.sin_port && peer.sin_addr.s_addr == mine.sin_addr.s_addr) {
      server = std::move(got);  // ours; anything else is a stranger, closed
    }
  }
  auto a = from_fd(std::move(client));
  if (!a.ok()) return a.status();
  auto b = from_fd(std::move(server));
  if (!b.ok()) return b.status();
  return std::pair<TcpStream, TcpStream>(*std::move(a), *std::move(b));
}

absl::StatusOr<TcpStream> TcpStream::from_fd(OwnedFd&& fd) {
  absl::Status st =
      detail::check_socket(fd.get(), SOCK_STREAM, {AF_INET, AF_INET6}, "TcpStream::from_fd");
  if (!st.ok()) return st;
  auto a = Async<OwnedFd>::create(std::move(fd));
  if (!a.ok()) return a.status();
  return TcpStream(*std::move(a));
}

absl::StatusOr<TcpStream> TcpStream::from_async(Async<OwnedFd>&& s) {
  absl::Status st =
      detail::check_socket(s.fd(), SOCK_STREAM, {AF_INET, AF_INET6}, "TcpStream::from_async");
  if (!st.ok()) return st;
  return TcpStream(std::move(s));
}

absl::StatusOr<SocketAddress> TcpStream::local_address() const {
  return sock_name<SocketAddress>(false, "TcpStream::local_address");
}

absl::StatusOr<SocketAddress> TcpStream::peer_address() const {
  return sock_name<SocketAddress>(true, "TcpStream::peer_address");
}

absl::Status TcpStream::shutdown(Shutdown how) const {
  return shutdown_impl(how, "TcpStream::shutdown");
}

absl::Status TcpStream::set_nodelay(bool on) const {
  return set_int_option(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "TcpStream::set_nodelay");
}

absl::StatusOr<bool> TcpStream::nodelay() const {
  auto v = get_int_option(IPPROTO_TCP, TCP_NODELAY, "TcpStream::nodelay");
  if (!v.ok()) return v.status();
  return *v != 0;
}

detail::SysIo TcpStream::peek(void* buf, size_t len) {
  return recv_flags(buf, len, MSG_PEEK, detail::ready::kReadable, "TcpStream::peek");
}

// --- TcpListener ---------------------------------------------------------

absl::StatusOr<TcpListener> TcpListener::bind(const SocketAddress& addr) {
  return bind(addr, ListenOptions{});
}

absl::StatusOr<TcpListener> TcpListener::bind(const SocketAddress& addr, ListenOptions options) {
  static_assert(ListenOptions{}.backlog == kBacklog);
  const std::string what = absl::StrCat("TcpListener::bind(", addr.to_string(), ")");
  if (!addr.is_v4() && !addr.is_v6()) {
    return absl::InvalidArgumentError(absl::StrCat("weft: ", what, ": not an IP address"));
  }
  auto fd = detail::new_socket(addr.family(), SOCK_STREAM, what);
  if (!fd.ok()) return fd.status();
  const int one = 1;
  if (::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    return errno_status(errno, absl::StrCat(what, ": SO_REUSEADDR"));
  }
  if (options.reuse_port &&
      ::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return errno_status(errno, absl::StrCat(what, ": SO_REUSEPORT"));
  }
  if (::bind(fd->get(), addr.data(), addr.size()) != 0) {
    return errno_status(errno, absl::StrCat(what, ": bind"));
  }
  if (::listen(fd->get(), options.backlog) != 0) {
    return errno_status(errno, absl::StrCat(what, ": listen"));
  }
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) return a.status();
  return TcpListener(*std::move(a));
}

absl::StatusOr<TcpListener> TcpListener::from_fd(OwnedFd&& fd) {
  absl::Status st =
      detail::check_socket(fd.get(), SOCK_STREAM, {AF_INET, AF_INET6}, "TcpListener::from_fd");
  if (!st.ok()) return st;
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: TcpListener::from_fd: fd ", fd.get(), " is not listening"));
  }
  auto a = Async<OwnedFd>::create(std::move(fd));
  if (!a.ok()) return a.status();
  return TcpListener(*std::move(a));
}

Task<absl::StatusOr<std::pair<TcpStream, SocketAddress>>> TcpListener::accept() {
  detail::RawAddress peer;
  auto fd = co_await accept_fd(&peer, "TcpListener::accept");
  if (!fd.ok()) co_return fd.status();
  auto addr = SocketAddress::from_sockaddr(peer.sa(), peer.len);
  if (!addr.ok()) co_return addr.status();
  auto a = Async<OwnedFd>::create(OwnedFd(static_cast<int>(*fd)));
  if (!a.ok()) co_return a.status();
  co_return std::pair<TcpStream, SocketAddress>(TcpStream(*std::move(a)), *addr);
}

absl::StatusOr<SocketAddress> TcpListener::local_address() const {
  return sock_name<SocketAddress>(false, "TcpListener::local_address");
}

}  // namespace weft
