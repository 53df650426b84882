// SocketBase: the calls every ready-made socket type shares (TcpListener,
// TcpStream, UdpSocket, UnixListener, UnixStream, UnixDatagram), built on
// Async<OwnedFd>'s retry loop. Internal: use the socket types.
//
// What it holds: non-blocking accept4, the second half of a non-blocking
// connect, recv/send with flags and addresses, shutdown, socket options,
// and getsockname/getpeername into an address type.
//
// Readiness and datagram errors: a datagram socket's EPOLLERR (an ICMP
// "port unreachable" on a connected UDP socket, say) is reported once by
// the next recv or send, after which the socket is healthy again. The
// registration keeps the error bit it saw, so datagram operations clear it
// together with the direction bit when they get EAGAIN (kDatagramRead /
// kDatagramWrite below); otherwise a waiter would see "ready" forever and
// retry without sleeping. Stream sockets keep the bit: their errors are
// final (every later call fails or reads end of stream at once).
#ifndef WEFT_ASYNC_FD_SOCKET_BASE_H_
#define WEFT_ASYNC_FD_SOCKET_BASE_H_

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "async_fd/async.h"
#include "async_fd/io_status.h"
#include "base/owned_fd.h"
#include "executor/task.h"

namespace weft {

// Which half of a connection shutdown() closes.
enum class Shutdown {
  kRead,   // no more reads: later reads return end of stream
  kWrite,  // no more writes: the peer reads end of stream (a TCP FIN)
  kBoth,
};

namespace detail {

// Raw socket address storage for accept / recvfrom / getsockname.
struct RawAddress {
  sockaddr_storage storage{};
  socklen_t len = sizeof(sockaddr_storage);
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
};

// A new socket, non-blocking and close-on-exec.
absl::StatusOr<OwnedFd> new_socket(int family, int type, absl::string_view what);

// Checks that `fd` is a socket of type `type` (SOCK_STREAM, SOCK_DGRAM)
// in one of `families`; `what` names the caller for the error.
absl::Status check_socket(int fd, int type, std::initializer_list<int> families,
                          absl::string_view what);

class SocketBase : public Async<OwnedFd> {
 public:
  SocketBase(SocketBase&&) noexcept = default;
  SocketBase& operator=(SocketBase&&) noexcept = default;

 protected:
  // What datagram operations clear on EAGAIN (see the file comment).
  static constexpr uint32_t kDatagramRead = ready::kReadable | ready::kError;
  static constexpr uint32_t kDatagramWrite = ready::kWritable | ready::kError;

  explicit SocketBase(Async<OwnedFd>&& a) noexcept : Async<OwnedFd>(std::move(a)) {}

  // Waits for a non-blocking connect(2) that returned EINPROGRESS to
  // finish: OK once connected, else the connect's error (ECONNREFUSED, ...)
  // with `what` naming the attempt. Call it right after registering the
  // socket (after connect(2): an unconnected TCP socket reports EPOLLHUP).
  Task<absl::Status> finish_connect(std::string what);

  // accept4(SOCK_NONBLOCK | SOCK_CLOEXEC), retried while it would block.
  // Any other failure (EMFILE, ECONNABORTED, ...) goes to the caller; the
  // pending connection stays queued and readiness is kept, so the next
  // call tries again at once.
  // The result is the new fd (to wrap in an OwnedFd at once).
  SysIo accept_fd(RawAddress* peer, const char* what);

  // recv(2) / recvfrom(2) / send(2) / sendto(2) with `flags`, retried
  // while they would block; `clear` is the readiness to clear on EAGAIN.
  SysIo recv_flags(void* buf, size_t len, int flags, uint32_t clear, const char* what);
  SysIo send_flags(const void* buf, size_t len, int flags, uint32_t clear, const char* what);
  Task<absl::StatusOr<size_t>> recv_from_raw(void* buf, size_t len, int flags, RawAddress* from,
                                             const char* what);
  Task<absl::StatusOr<size_t>> send_to_raw(const void* buf, size_t len, const sockaddr* to,
                                           socklen_t to_len, const char* what);

  absl::Status shutdown_impl(Shutdown how, const char* what) const;
  // connect(2) on a datagram socket: sets the default peer, never blocks.
  absl::Status connect_datagram(const sockaddr* to, socklen_t len, absl::string_view what) const;
  absl::Status set_int_option(int level, int name, int value, const char* what) const;
  absl::StatusOr<int> get_int_option(int level, int name, const char* what) const;

  // getsockname / getpeername, converted by Addr::from_sockaddr.
  template <class Addr>
  absl::StatusOr<Addr> sock_name(bool peer, const char* what) const {
    return with_fd([&](int fd) -> absl::StatusOr<Addr> {
      RawAddress raw;
      const int r = peer ? ::getpeername(fd, raw.sa(), &raw.len)
                         : ::getsockname(fd, raw.sa(), &raw.len);
      if (r != 0) return errno_status(errno, what);
      return Addr::from_sockaddr(raw.sa(), raw.len);
    });
  }
};

}  // namespace detail
}  // namespace weft

#endif  // WEFT_ASYNC_FD_SOCKET_BASE_H_
