#include "async_fd/udp.h"

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace weft {

absl::StatusOr<UdpSocket> UdpSocket::bind(const SocketAddress& addr) {
  const std::string what = absl::StrCat("UdpSocket::bind(", addr.to_string(), ")");
  if (!addr.is_v4() && !addr.is_v6()) {
    return absl::InvalidArgumentError(absl::StrCat("weft: ", what, ": not an IP address"));
  }
  auto fd = detail::new_socket(addr.family(), SOCK_DGRAM, what);
  if (!fd.ok()) return fd.status();
  if (::bind(fd->get(), addr.data(), addr.size()) != 0) {
    return errno_status(errno, absl::StrCat(what, ": bind"));
  }
  auto a = Async<OwnedFd>::create(*std::move(fd));
  if (!a.ok()) return a.status();
  return UdpSocket(*std::move(a));
}

absl::StatusOr<UdpSocket> UdpSocket::from_fd(OwnedFd&& fd) {
  absl::Status st =
      detail::check_socket(fd.get(), SOCK_DGRAM, {AF_INET, AF_INET6}, "UdpSocket::from_fd");
  if (!st.ok()) return st;
  auto a = Async<OwnedFd>::create(std::move(fd));
  if (!a.ok()) return a.status();
  return UdpSocket(*std::move(a));
}

absl::Status UdpSocket::connect(const SocketAddress& peer) const {
  return connect_datagram(peer.data(), peer.size(),
                          absl::StrCat("UdpSocket::connect(", peer.to_string(), ")"));
}

Task<absl::StatusOr<size_t>> UdpSocket::send_to(const void* buf, size_t len,
                                                const SocketAddress& to) {
  return send_to_raw(buf, len, to.data(), to.size(), "UdpSocket::send_to");
}

Task<absl::StatusOr<std::pair<size_t, SocketAddress>>> UdpSocket::recv_from_flags(
    void* buf, size_t len, int flags, const char* what) {
  detail::RawAddress from;
  auto n = co_await recv_from_raw(buf, len, flags, &from, what);
  if (!n.ok()) co_return n.status();
  auto addr = SocketAddress::from_sockaddr(from.sa(), from.len);
  if (!addr.ok()) co_return addr.status();
  co_return std::pair<size_t, SocketAddress>(*n, *addr);
}

Task<absl::StatusOr<std::pair<size_t, SocketAddress>>> UdpSocket::recv_from(void* buf,
                                                                            size_t len) {
  return recv_from_flags(buf, len, 0, "UdpSocket::recv_from");
}

Task<absl::StatusOr<std::pair<size_t, SocketAddress>>> UdpSocket::peek_from(void* buf,
                                                                            size_t len) {
  return recv_from_flags(buf, len, MSG_PEEK, "UdpSocket::peek_from");
}

detail::SysIo UdpSocket::send(const void* buf, size_t len) {
  return send_flags(buf, len, 0, kDatagramWrite, "UdpSocket::send");
}

detail::SysIo UdpSocket::recv(void* buf, size_t len) {
  return recv_flags(buf, len, 0, kDatagramRead, "UdpSocket::recv");
}

detail::SysIo UdpSocket::peek(void* buf, size_t len) {
  return recv_flags(buf, len, MSG_PEEK, kDatagramRead, "UdpSocket::peek");
}

absl::StatusOr<SocketAddress> UdpSocket::local_address() const {
  return sock_name<SocketAddress>(false, "UdpSocket::local_address");
}

absl::StatusOr<SocketAddress> UdpSocket::peer_address() const {
  return sock_name<SocketAddress>(true, "UdpSocket::peer_address");
}

absl::Status UdpSocket::set_broadcast(bool on) const {
  return set_int_option(SOL_SOCKET, SO_BROADCAST, on ? 1 : 0, "UdpSocket::set_broadcast");
}

}  // namespace weft
