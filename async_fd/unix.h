// UnixListener, UnixStream and UnixDatagram: Unix-domain sockets, ready to
// await.
//
// What it is for: talking to local services (a daemon's control socket, a
// database's socket file) and between processes or tasks of one program
// (pair()). Addresses are UnixAddress values (unix_address.h): a path, a
// Linux abstract name (leading '\0'), or unnamed; bind and connect also
// take a path string directly.
//
// UnixStream is an Async<OwnedFd> (read, write, read_exact, write_all,
// readv, writev, read_with, write_with, readable, writable are Async's),
// like TcpStream.
//
// Guarantees:
//   - Errors are absl::Status values with errno's message and the call
//     ("weft: UnixStream::connect(/run/x.sock): No such file or directory"
//     is NotFound). A listener whose backlog is full makes connect fail with
//     "Resource temporarily unavailable" (Unavailable) rather than wait:
//     Linux has no readiness event for "room in a Unix listener's backlog".
//   - Writes use MSG_NOSIGNAL: no SIGPIPE when the peer is gone.
//   - bind() does not remove an existing socket file, and closing a
//     listener does not remove its file (as Rust's std and smol): unlink it
//     yourself, or use an abstract address, which disappears by itself.
//   - UnixDatagram::send_to an unconnected receiver whose queue is full
//     may wait until some unrelated writability event: Linux reports room
//     in a receiver's queue only to a socket connected to it. Connect first
//     (or use pair()) where receivers can fall behind.
//
// Example:
//   auto listener = weft::UnixListener::bind("/tmp/app.sock").value();
//   auto [conn, peer] = (co_await listener.accept()).value();
//   auto [a, b] = weft::UnixStream::pair().value();     // connected to each other
#ifndef WEFT_ASYNC_FD_UNIX_H_
#define WEFT_ASYNC_FD_UNIX_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "async_fd/async.h"
#include "async_fd/socket_base.h"
#include "async_fd/unix_address.h"
#include "base/owned_fd.h"
#include "executor/task.h"

namespace weft {

class UnixStream : public detail::SocketBase {
 public:
  static Task<absl::StatusOr<UnixStream>> connect(UnixAddress addr);
  static Task<absl::StatusOr<UnixStream>> connect(std::string path);
  // Two streams connected to each other (socketpair(2)).
  static absl::StatusOr<std::pair<UnixStream, UnixStream>> pair();
  // Adopts a connected Unix stream socket; on failure `fd` is left as it was.
  static absl::StatusOr<UnixStream> from_fd(OwnedFd&& fd);

  UnixStream(UnixStream&&) noexcept = default;
  UnixStream& operator=(UnixStream&&) noexcept = default;

  absl::StatusOr<UnixAddress> local_address() const;
  absl::StatusOr<UnixAddress> peer_address() const;
  absl::Status shutdown(Shutdown how) const;
  // Reads without removing the bytes from the stream.
  detail::SysIo peek(void* buf, size_t len);

 private:
  using detail::SocketBase::create;  // hidden: it would build an Async
  explicit UnixStream(Async<OwnedFd>&& a) noexcept : detail::SocketBase(std::move(a)) {}
  friend class UnixListener;
};

class UnixListener : private detail::SocketBase {
 public:
  // listen(2)'s backlog (see TcpListener::kBacklog).
  static constexpr int kBacklog = 1024;

  static absl::StatusOr<UnixListener> bind(const UnixAddress& addr);
  static absl::StatusOr<UnixListener> bind(std::string_view path);
  // Adopts a listening Unix stream socket; on failure `fd` is left as it was.
  static absl::StatusOr<UnixListener> from_fd(OwnedFd&& fd);

  UnixListener(UnixListener&&) noexcept = default;
  UnixListener& operator=(UnixListener&&) noexcept = default;

  // The next connection and its peer's address (usually unnamed: clients
  // rarely bind). Errors as TcpListener::accept: ResourceExhausted under fd
  // exhaustion, with the connection left queued.
  Task<absl::StatusOr<std::pair<UnixStream, UnixAddress>>> accept();

  absl::StatusOr<UnixAddress> local_address() const;

  using Async<OwnedFd>::close;
  using Async<OwnedFd>::fd;
  using Async<OwnedFd>::num_waiters;
  using Async<OwnedFd>::readable;

 private:
  explicit UnixListener(Async<OwnedFd>&& a) noexcept : detail::SocketBase(std::move(a)) {}
};

class UnixDatagram : private detail::SocketBase {
 public:
  static absl::StatusOr<UnixDatagram> bind(const UnixAddress& addr);
  static absl::StatusOr<UnixDatagram> bind(std::string_view path);
  // A socket with no address: it can send, and receive replies only if
  // connected (a receiver cannot address an unnamed sender).
  static absl::StatusOr<UnixDatagram> unbound();
  // Two unnamed sockets connected to each other (socketpair(2)).
  static absl::StatusOr<std::pair<UnixDatagram, UnixDatagram>> pair();
  // Adopts a Unix datagram socket; on failure `fd` is left as it was.
  static absl::StatusOr<UnixDatagram> from_fd(OwnedFd&& fd);

  UnixDatagram(UnixDatagram&&) noexcept = default;
  UnixDatagram& operator=(UnixDatagram&&) noexcept = default;

  // Sets the default peer for send / recv. Does not block.
  absl::Status connect(const UnixAddress& peer) const;

  Task<absl::StatusOr<size_t>> send_to(const void* buf, size_t len, const UnixAddress& to);
  // The datagram and its sender (unnamed if the sender is not bound).
  Task<absl::StatusOr<std::pair<size_t, UnixAddress>>> recv_from(void* buf, size_t len);
  detail::SysIo send(const void* buf, size_t len);
  detail::SysIo recv(void* buf, size_t len);

  absl::StatusOr<UnixAddress> local_address() const;
  absl::StatusOr<UnixAddress> peer_address() const;
  absl::Status shutdown(Shutdown how) const;

  using Async<OwnedFd>::close;
  using Async<OwnedFd>::fd;
  using Async<OwnedFd>::num_waiters;
  using Async<OwnedFd>::readable;
  using Async<OwnedFd>::writable;
  using Async<OwnedFd>::read_with;
  using Async<OwnedFd>::write_with;

 private:
  explicit UnixDatagram(Async<OwnedFd>&& a) noexcept : detail::SocketBase(std::move(a)) {}
};

}  // namespace weft

#endif  // WEFT_ASYNC_FD_UNIX_H_
