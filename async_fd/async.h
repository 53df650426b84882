// Async<T>: makes anything that owns a file descriptor asynchronous.
//
// What it is for: a socket or fd that synchronous code created (a raw int,
// an OwnedFd, an asio::ip::tcp::socket, a socket a C library opened)
// becomes awaitable with one line. Async<T> owns the T: it switches the fd
// to non-blocking mode (and an Asio socket's own non_blocking flag), and
// registers it once with the global reactor.
//
// Requires: T is `int` (a raw fd, closed by Async), or has `native_handle()`
// or `get()` returning the fd and closes it in its destructor. The fd must
// be pollable: regular files and directories are refused with an
// InvalidArgument status that points to blocking_pool/.
//
// Guarantees:
//   - `read_with(op)` / `write_with(op)` call `op(inner)` and retry while it
//     reports "would block": a negative integer result with errno
//     EAGAIN/EWOULDBLOCK, a std::error_code (asio::error_code) equal to
//     would_block / try_again, a std::pair whose .second is such a code, or
//     a thrown std::system_error with such a code (asio's throwing calls).
//   - Closing (close() or the destructor) is safe from any thread while
//     tasks wait on the object or start operations on it; see "Closing".
//   - Writes to sockets use MSG_NOSIGNAL: a reset peer gives an EPIPE /
//     ECONNRESET status, never SIGPIPE (see reactor.h for pipes).
//   - Errors are absl::Status values with errno's message kept; end of
//     stream is a 0-byte read.
//
// Closing:
//   - close() wakes every waiting task with Cancelled; every operation
//     started or retried afterwards returns Cancelled without a syscall
//     (Asio's operation_aborted). close() is idempotent, from any thread.
//   - An operation that is inside its syscall (or its read_with/write_with
//     op) on another thread when close() begins completes with its own
//     result: close() waits for it (one non-blocking call) before it
//     removes the fd from epoll and closes it. So the fd number an
//     operation captured never names another file while the operation can
//     still use it, and a read_with op never sees its object destroyed.
//     Cost: one uncontended atomic add and subtract on the registration per
//     syscall.
//   - Closing an Async from inside its own read_with / write_with op would
//     wait for itself: it aborts with a message naming the mistake.
//   - The destructor closes first, so destroying the object while tasks
//     wait on it or run an operation on it is safe too; starting a new
//     operation must not race with the destructor (the object is gone).
//     Moving, into_inner() and get_ref() are the owner's alone, as for any
//     C++ object. After close(), fd() is -1 and the socket types'
//     synchronous calls (shutdown, options, addresses) return Cancelled.
//
// Example:
//   asio::ip::tcp::socket sock(ctx);
//   sock.connect(endpoint);                                  // blocking, as before
//   auto s = weft::Async<asio::ip::tcp::socket>::create(std::move(sock)).value();
//   auto n = co_await s.read_with([&](auto& sk) {
//     asio::error_code ec;
//     size_t n = sk.read_some(asio::buffer(buf), ec);
//     return std::pair{n, ec};
//   });
#ifndef WEFT_ASYNC_FD_ASYNC_H_
#define WEFT_ASYNC_FD_ASYNC_H_

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <atomic>
#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "async_fd/async_detail.h"
#include "async_fd/io_op.h"
#include "async_fd/io_status.h"
#include "async_fd/readiness.h"
#include "executor/coop.h"
#include "executor/task.h"
#include "io/write_all.h"
#include "reactor/reactor.h"

namespace weft {

template <class T>
class Async {
 public:
  // Makes `inner` asynchronous. On success it is moved from; on failure it
  // is left as it was (still blocking, still owned by the caller).
  static absl::StatusOr<Async> create(T&& inner) {
    const int fd = detail::fd_of(inner);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("weft: Async: fd ", fd, " is not open"));
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return errno_status(errno, absl::StrCat("Async: fcntl(", fd, ")"));
    if (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      return errno_status(errno, absl::StrCat("Async: setting fd ", fd, " non-blocking"));
    }
    auto reg = detail::Reactor::get().register_fd(fd);
    if (!reg.ok()) {
      ::fcntl(fd, F_SETFL, flags);  // give it back as it was
      return reg.status();
    }
    detail::set_own_non_blocking(inner, true);
    return Async(std::move(inner), *std::move(reg), fd, S_ISSOCK(st.st_mode), flags,
                 read_drains(fd, st));
  }

  Async(Async&& o) noexcept
      : inner_(std::move(o.inner_)),
        reg_(std::move(o.reg_)),
        fd_(std::exchange(o.fd_, -1)),
        is_socket_(o.is_socket_),
        drains_(o.drains_),
        saved_flags_(o.saved_flags_),
        // relaxed: moving is the owner's, on one thread (see "Closing").
        closed_(o.closed_.exchange(true, std::memory_order_relaxed)) {}
  Async& operator=(Async&& o) noexcept {
    if (this != &o) {
      close();
      inner_ = std::move(o.inner_);
      reg_ = std::move(o.reg_);
      fd_ = std::exchange(o.fd_, -1);
      is_socket_ = o.is_socket_;
      drains_ = o.drains_;
      saved_flags_ = o.saved_flags_;
      // relaxed: as in the move constructor.
      closed_.store(o.closed_.exchange(true, std::memory_order_relaxed),
                    std::memory_order_relaxed);
    }
    return *this;
  }
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  ~Async() { close(); }

  // Deregisters (waking waiting tasks with Cancelled), waits for the
  // syscalls other threads are making on the fd right now, and closes the
  // fd (int: close(2); otherwise the object's reset() or close(), if it has
  // one, else its destructor does). Any thread; idempotent. See "Closing"
  // above.
  void close() noexcept {
    // acq_rel: one caller wins; a later caller (or fd()) sees it closed.
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    reg_.deregister();  // returns once no operation holds a pin
    if (fd_ >= 0) {
      if constexpr (std::is_same_v<T, int>) {
        ::close(fd_);
      } else if constexpr (requires { inner_.reset(); }) {
        inner_.reset();
      } else if constexpr (requires(std::error_code& ec) { inner_.close(ec); }) {
        std::error_code ec;
        inner_.close(ec);
      }
    }
    // fd_ keeps the old number: operations being started on other threads
    // may still read it; their pins fail, so they never use it.
  }

  // Tasks waiting on this object right now (diagnostics and tests).
  size_t num_waiters() const noexcept {
    return is_closed() || !reg_.io() ? 0 : reg_.io()->num_waiters();
  }

  T& get_ref() noexcept { return inner_; }
  const T& get_ref() const noexcept { return inner_; }
  // The fd; -1 once closed (or given back by into_inner).
  int fd() const noexcept { return is_closed() ? -1 : fd_; }

  // Deregisters and gives the object back in blocking mode (as it came).
  T into_inner() && {
    // acq_rel: as in close().
    if (!closed_.exchange(true, std::memory_order_acq_rel)) {
      reg_.deregister();
      if (fd_ >= 0) ::fcntl(fd_, F_SETFL, saved_flags_);
      detail::set_own_non_blocking(inner_, (saved_flags_ & O_NONBLOCK) != 0);
    }
    return std::move(inner_);
  }
  T release() { return std::move(*this).into_inner(); }

  // Completes when the fd is readable (or has hung up / errored) / writable.
  detail::ReadinessAwaiter readable() const noexcept {
    return {reg_.io(), reg_.generation(), detail::ready::kReadInterest};
  }
  detail::ReadinessAwaiter writable() const noexcept {
    return {reg_.io(), reg_.generation(), detail::ready::kWriteInterest};
  }

  // Retries `op(inner)` until it stops reporting would-block; see above.
  // Awaitable (detail::IoOp, no coroutine frame); await it once.
  template <class Op>
  auto read_with(Op op) {
    auto call = [this, op]() mutable { return op(inner_); };
    return detail::IoOp<detail::WithAttempt<decltype(call)>>(
        reg_.io(), reg_.generation(), detail::ready::kReadInterest,
        detail::ready::kReadable | detail::ready::kError, {std::move(call)});
  }
  template <class Op>
  auto write_with(Op op) {
    auto call = [this, op]() mutable { return op(inner_); };
    return detail::IoOp<detail::WithAttempt<decltype(call)>>(
        reg_.io(), reg_.generation(), detail::ready::kWriteInterest,
        detail::ready::kWritable | detail::ready::kError, {std::move(call)});
  }

  // Reads at most `len` bytes; 0 means end of stream. Like every operation
  // below, it takes what it needs from the object when called (the fd
  // number, the registration), not when first awaited. The result is
  // awaitable without a coroutine frame (detail::IoOp, io_op.h) and
  // converts to a Task<absl::StatusOr<size_t>> where one is wanted.
  detail::SysIo read(void* buf, size_t len) {
    return sys_call(detail::ready::kReadInterest, detail::ready::kReadable,
                    {.call = &detail::sys::read, .fd = fd_, .buf = buf, .len = len,
                     .what = "read", .drains = drains_});
  }
  detail::SysIo read(std::span<std::byte> buf) { return read(buf.data(), buf.size()); }

  detail::SysIo write(const void* buf, size_t len) {
    return sys_call(detail::ready::kWriteInterest, detail::ready::kWritable,
                    {.call = is_socket_ ? &detail::sys::send : &detail::sys::write,
                     .fd = fd_,
                     .buf = const_cast<void*>(buf),  // only read from
                     .len = len,
                     .what = "write"});
  }
  detail::SysIo write(std::span<const std::byte> buf) { return write(buf.data(), buf.size()); }

  detail::SysIo readv(const iovec* iov, int count) {
    return sys_call(detail::ready::kReadInterest, detail::ready::kReadable,
                    {.call = &detail::sys::readv,
                     .fd = fd_,
                     .buf = const_cast<iovec*>(iov),  // only read from
                     .len = static_cast<size_t>(count),
                     .what = "readv"});
  }
  detail::SysIo writev(const iovec* iov, int count) {
    return sys_call(detail::ready::kWriteInterest, detail::ready::kWritable,
                    {.call = is_socket_ ? &detail::sys::sendmsg : &detail::sys::writev,
                     .fd = fd_,
                     .buf = const_cast<iovec*>(iov),  // only read from
                     .len = static_cast<size_t>(count),
                     .what = "writev"});
  }

  // Reads exactly `len` bytes; OutOfRange if the stream ends first.
  Task<absl::Status> read_exact(void* buf, size_t len) {
    size_t got = 0;
    while (got < len) {
      auto n = co_await read(static_cast<char*>(buf) + got, len - got);
      if (!n.ok()) co_return n.status();
      if (*n == 0) {
        co_return absl::OutOfRangeError(
            absl::StrCat("weft: read_exact: end of stream after ", got, " of ", len, " bytes"));
      }
      got += *n;
    }
    co_return absl::OkStatus();
  }
  // Writes all `len` bytes: weft::write_all (io/write_all.h) on this
  // object, so a write that takes 0 bytes gives DataLoss, not a loop.
  Task<absl::Status> write_all(const void* buf, size_t len) {
    return ::weft::write_all(*this, buf, len);
  }

 protected:
  // For the ready-made socket types built on top.
  detail::ScheduledIo* io() const noexcept { return reg_.io(); }
  uint32_t generation() const noexcept { return reg_.generation(); }
  bool is_socket() const noexcept { return is_socket_; }

  // Runs `f(fd)` (which returns absl::Status or absl::StatusOr) with the
  // registration pinned, so a close() on another thread waits for it and
  // the number cannot name another file meanwhile; Cancelled once closed.
  // For the synchronous calls of the socket types (setsockopt, shutdown...).
  template <class F>
  auto with_fd(F f) const -> std::invoke_result_t<F&, int> {
    detail::IoPin pin(reg_.io(), reg_.generation());
    if (!pin) return closed_status();
    return f(fd_);
  }

  // A syscall made until it stops reporting would-block (IoOp), its
  // result mapped to a status. `call.what` names it in errors; the
  // registration is read now (not when awaited), so the awaiter does not
  // touch this object at all.
  detail::SysIo sys_call(uint32_t interest, uint32_t clear_bit, detail::SysCall call) const {
    return detail::SysIo(reg_.io(), reg_.generation(), interest, clear_bit | detail::ready::kError,
                         call);
  }
  // The same for a callable `sys` (returning ssize_t, -1 with errno), for
  // calls that carry more than SysCall holds.
  template <class Sys>
  auto sys_io(uint32_t interest, uint32_t clear_bit, const char* what, Sys sys) const {
    return detail::IoOp<detail::LambdaAttempt<Sys>>(reg_.io(), reg_.generation(), interest,
                                                    clear_bit | detail::ready::kError,
                                                    {std::move(sys), what});
  }
  // Whether a short read() drains the fd (TCP, pipes): see read_drains().
  bool drains() const noexcept { return drains_; }

 private:
  bool is_closed() const noexcept {
    // acquire: pairs with close()'s exchange.
    return closed_.load(std::memory_order_acquire);
  }

  // Whether a read() on `fd` that returns less than it asked for has
  // emptied the receive buffer, so the next read may wait for readiness
  // without probing for EAGAIN first (IoAttempt::kDoneDrained). True for
  // TCP (tcp_recvmsg stops short only when the queue is empty) and pipes.
  // Not for datagrams (one datagram per read), nor for Unix stream sockets
  // (a read stops at a message carrying credentials or fds, with data
  // left behind).
  static bool read_drains(int fd, const struct stat& st) noexcept {
    if (S_ISFIFO(st.st_mode)) return true;
    if (!S_ISSOCK(st.st_mode)) return false;
    int protocol = 0;
    socklen_t len = sizeof protocol;
    return ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 &&
           protocol == IPPROTO_TCP;
  }

  Async(T&& inner, detail::IoRegistration reg, int fd, bool is_socket, int saved_flags,
        bool drains)
      : inner_(std::move(inner)),
        reg_(std::move(reg)),
        fd_(fd),
        is_socket_(is_socket),
        drains_(drains),
        saved_flags_(saved_flags) {}

  // The owner's fields. While the object is open, close() (any thread) and
  // starting operations (any thread) only read reg_.io(), reg_.generation(),
  // fd_ and is_socket_, which nothing changes until a move or destruction;
  // close() alone writes inner_ (after the pins are gone) and closed_.
  T inner_;
  detail::IoRegistration reg_;  // deregistered before inner_ closes the fd
  int fd_ = -1;
  bool is_socket_ = false;
  bool drains_ = false;  // read_drains()
  int saved_flags_ = 0;
  // Set once, by the first close() / into_inner(); read by fd() and
  // num_waiters().
  std::atomic<bool> closed_{false};
};

}  // namespace weft

#endif  // WEFT_ASYNC_FD_ASYNC_H_
