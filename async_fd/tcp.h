// TcpListener and TcpStream: TCP over IPv4 and IPv6, ready to await.
//
// What it is for: servers and clients without writing the non-blocking
// socket dance by hand. Both are Async<OwnedFd> underneath (see async.h):
// registered once with the global reactor, usable from any executor.
//
// TcpStream is an Async<OwnedFd>: read, write, read_exact, write_all,
// readv, writev, read_with, write_with, readable and writable are Async's.
// One task may read while another writes the same stream (full duplex);
// two tasks reading at once get the bytes in an unspecified split.
//
// Guarantees:
//   - Errors are absl::Status values with errno's message and the call that
//     failed ("weft: TcpStream::connect(127.0.0.1:9): Connection refused" is
//     Unavailable). End of stream is a 0-byte read.
//   - Writes use MSG_NOSIGNAL: a peer that hung up gives a Broken pipe
//     (FailedPrecondition) or Connection reset (Unavailable) status, never
//     SIGPIPE.
//   - accept() under fd exhaustion (EMFILE/ENFILE) fails with
//     ResourceExhausted and leaves the connection queued; the listener keeps
//     working, and the next accept() retries at once, so a server that
//     wants to wait for fds to free up should back off before calling
//     again (the error goes to the caller rather than being retried inside).
//   - Destroying a stream or listener while a task waits on it wakes that
//     task with Cancelled.
//
// Example:
//   auto listener = weft::TcpListener::bind(
//       weft::SocketAddress::loopback_v4(0)).value();
//   for (;;) {
//     auto conn = co_await listener.accept();
//     if (!conn.ok()) continue;                 // log it; back off on ResourceExhausted
//     weft::spawn(echo(std::move(conn->first))).detach();
//   }
//   // elsewhere:
//   auto s = co_await weft::TcpStream::connect(addr);
//   if (s.ok()) co_await s->write_all("hi", 2);
#ifndef WEFT_ASYNC_FD_TCP_H_
#define WEFT_ASYNC_FD_TCP_H_

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

class TcpStream : public detail::SocketBase {
 public:
  // Connects without blocking the thread: connect(2) on a non-blocking
  // socket, then waits for writability and reads SO_ERROR. A refused or
  // unreachable peer comes back as a status.
  static Task<absl::StatusOr<TcpStream>> connect(SocketAddress addr);

  // Adopts a connected TCP socket. On failure (not a TCP socket, or the
  // reactor refuses it) `fd` is left as it was.
  static absl::StatusOr<TcpStream> from_fd(OwnedFd&& fd);
  // Adopts an Async<OwnedFd> that holds a TCP socket; on failure `s` is
  // left as it was.
  static absl::StatusOr<TcpStream> from_async(Async<OwnedFd>&& s);
  // Two streams connected to each other over IPv4 loopback, for tests (as
  // UnixStream::pair). Synchronous: a throwaway listener on 127.0.0.1:0, a
  // blocking connect (loopback completes the handshake at once) and an
  // accept of exactly that connection (a stranger's connect to the port is
  // refused by closing it). Fails with the errno status of the call.
  static absl::StatusOr<std::pair<TcpStream, TcpStream>> pair();

  TcpStream(TcpStream&&) noexcept = default;
  TcpStream& operator=(TcpStream&&) noexcept = default;

  absl::StatusOr<SocketAddress> local_address() const;
  absl::StatusOr<SocketAddress> peer_address() const;

  // shutdown(2): Shutdown::kWrite sends a FIN; the peer reads end of stream
  // and may still send to us.
  absl::Status shutdown(Shutdown how) const;

  // TCP_NODELAY: send small writes at once instead of coalescing them.
  absl::Status set_nodelay(bool on) const;
  absl::StatusOr<bool> nodelay() const;

  // Reads into `buf` without removing the bytes from the stream: the next
  // read returns them again. Waits while there is nothing to read.
  detail::SysIo peek(void* buf, size_t len);

 private:
  // Hidden: Async<OwnedFd>::create would build an Async, not a TcpStream.
  using detail::SocketBase::create;
  explicit TcpStream(Async<OwnedFd>&& a) noexcept : detail::SocketBase(std::move(a)) {}
  friend class TcpListener;
};

// How TcpListener::bind sets the socket up.
struct ListenOptions {
  // listen(2)'s backlog (TcpListener::kBacklog by default). The kernel caps
  // it at net.core.somaxconn, and reads a negative value as that cap.
  int backlog = 1024;
  // SO_REUSEPORT: several listeners (one per worker of a LocalPool, say) bind
  // the same address and port, and the kernel spreads incoming connections
  // over them, so no single accepting thread is the bottleneck. Every
  // listener of the group must set it, in processes of the same user. With
  // port 0, bind the first listener, then the others to its local_address().
  bool reuse_port = false;
};

class TcpListener : private detail::SocketBase {
 public:
  // listen(2)'s backlog: connections the kernel completes and queues before
  // accept() takes them. The kernel caps it at net.core.somaxconn; 1024 (as
  // tokio) rides out bursts of a few hundred connects without dropped SYNs.
  static constexpr int kBacklog = 1024;

  // socket, SO_REUSEADDR, bind, listen. Port 0 picks a free port
  // (local_address() tells which).
  static absl::StatusOr<TcpListener> bind(const SocketAddress& addr);
  static absl::StatusOr<TcpListener> bind(const SocketAddress& addr, ListenOptions options);
  // Adopts a listening TCP socket; on failure `fd` is left as it was.
  static absl::StatusOr<TcpListener> from_fd(OwnedFd&& fd);

  TcpListener(TcpListener&&) noexcept = default;
  TcpListener& operator=(TcpListener&&) noexcept = default;

  // The next connection and its peer's address. Waits while none is queued.
  Task<absl::StatusOr<std::pair<TcpStream, SocketAddress>>> accept();

  absl::StatusOr<SocketAddress> local_address() const;

  using Async<OwnedFd>::close;
  using Async<OwnedFd>::fd;
  using Async<OwnedFd>::num_waiters;
  using Async<OwnedFd>::readable;

 private:
  explicit TcpListener(Async<OwnedFd>&& a) noexcept : detail::SocketBase(std::move(a)) {}
};

}  // namespace weft

#endif  // WEFT_ASYNC_FD_TCP_H_
