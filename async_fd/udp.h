// UdpSocket: UDP over IPv4 and IPv6, ready to await.
//
// What it is for: datagram clients and servers. Bind to an address (port 0
// picks one), then send_to / recv_from; or connect() to a default peer and
// use send / recv, which then also receive only from that peer.
//
// Guarantees:
//   - One datagram per call. recv_from / recv return the bytes copied; a
//     datagram longer than the buffer is truncated (the rest is dropped, as
//     recvfrom(2) does).
//   - A connected socket's ICMP errors (a peer port with no listener)
//     surface once, as the status of the next recv or send (Connection
//     refused, Unavailable); the socket keeps working afterwards.
//   - Errors are absl::Status values with errno's message and the call.
//
// Example:
//   auto sock = weft::UdpSocket::bind(weft::SocketAddress::loopback_v4(0)).value();
//   char buf[1500];
//   auto got = co_await sock.recv_from(buf, sizeof buf);
//   if (got.ok()) co_await sock.send_to(buf, got->first, got->second);   // echo
#ifndef WEFT_ASYNC_FD_UDP_H_
#define WEFT_ASYNC_FD_UDP_H_

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "async_fd/address.h"
#include "async_fd/async.h"
#include "async_fd/socket_base.h"
#include "base/owned_fd.h"
#include "executor/task.h"

namespace weft {

class UdpSocket : private detail::SocketBase {
 public:
  static absl::StatusOr<UdpSocket> bind(const SocketAddress& addr);
  // Adopts a UDP socket; on failure `fd` is left as it was.
  static absl::StatusOr<UdpSocket> from_fd(OwnedFd&& fd);

  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&&) noexcept = default;

  // Sets the default peer for send/recv (and filters what arrives). Does
  // not block: UDP has no handshake.
  absl::Status connect(const SocketAddress& peer) const;

  Task<absl::StatusOr<size_t>> send_to(const void* buf, size_t len, const SocketAddress& to);
  // The datagram and its sender.
  Task<absl::StatusOr<std::pair<size_t, SocketAddress>>> recv_from(void* buf, size_t len);
  // As recv_from, but leaves the datagram queued.
  Task<absl::StatusOr<std::pair<size_t, SocketAddress>>> peek_from(void* buf, size_t len);

  // To / from the connected peer (send fails with "Destination address
  // required" when the socket is not connected).
  detail::SysIo send(const void* buf, size_t len);
  detail::SysIo recv(void* buf, size_t len);
  detail::SysIo peek(void* buf, size_t len);

  absl::StatusOr<SocketAddress> local_address() const;
  absl::StatusOr<SocketAddress> peer_address() const;

  absl::Status set_broadcast(bool on) const;

  using Async<OwnedFd>::close;
  using Async<OwnedFd>::fd;
  using Async<OwnedFd>::num_waiters;
  using Async<OwnedFd>::readable;
  using Async<OwnedFd>::writable;
  using Async<OwnedFd>::read_with;
  using Async<OwnedFd>::write_with;

 private:
  explicit UdpSocket(Async<OwnedFd>&& a) noexcept : detail::SocketBase(std::move(a)) {}
  Task<absl::StatusOr<std::pair<size_t, SocketAddress>>> recv_from_flags(void* buf, size_t len,
                                                                         int flags,
                                                                         const char* what);
};

}  // namespace weft

#endif  // WEFT_ASYNC_FD_UDP_H_
