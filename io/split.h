// split(stream): a read half and a write half, for a reader task and a
// writer task at once.
//
// What it is for: a connection served by two tasks (one reads requests,
// one writes replies or pushes events), each holding only its half, as
// tokio's split / into_split.
//
// The rule: both halves refer to the one stream object, so split() is only
// offered for streams whose read side and write side may be used by two
// tasks at the same time (FullDuplex below):
//   - Async<T> and the socket types built on it (TcpStream, UnixStream):
//     a read waits on the fd's read readiness and a write on its write
//     readiness; the reactor keeps the two waiter lists apart and the
//     syscalls are independent (tcp.h: "One task may read while another
//     writes"). Two readers at once would only split the bytes
//     unpredictably, and a half is one task's anyway.
//   - DuplexStream: each direction is its own locked pipe.
//   - Not Unblock<T> or fs::File: they run one operation at a time (a
//     second concurrent one is a std::logic_error / a wait), so a read
//     would hold the writer back. A user's type opts in by specializing
//     weft::kFullDuplex<T> = true.
//
// Two forms:
//   - split(s) borrows: the halves point at `s`, which must outlive them.
//   - split(std::move(s)) owns: the halves share the stream (a shared_ptr)
//     and it is destroyed, closing it, when both halves are gone.
// A WriteHalf of a socket has shutdown() (kWrite: the peer reads end of
// stream) when the stream has it; a DuplexStream's too.
//
// Example:
//   auto [rd, wr] = weft::split(std::move(conn));
//   weft::spawn(pump_events(std::move(wr))).detach();
//   co_await serve_requests(rd);
#ifndef WEFT_IO_SPLIT_H_
#define WEFT_IO_SPLIT_H_

#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "async_fd/async.h"
#include "async_fd/tcp.h"
#include "io/concepts.h"
#include "io/duplex.h"

namespace weft {

namespace detail {
template <class T>
void async_base(const Async<T>&);
}  // namespace detail

// True for streams whose read and write sides two tasks may use at once.
template <class S>
inline constexpr bool kFullDuplex =
    requires(const S& s) { detail::async_base(s); } || std::is_same_v<S, DuplexStream>;

template <class S>
concept FullDuplexStream = AsyncRead<S> && AsyncWrite<S> && kFullDuplex<S>;

template <FullDuplexStream S>
class ReadHalf {
 public:
  auto read(std::span<std::byte> buf) { return s_->read(buf); }
  S& get_ref() noexcept { return *s_; }  // the whole stream: careful

  // Made by split(); `owner` is null when borrowed.
  ReadHalf(S* s, std::shared_ptr<S> owner) : s_(s), owner_(std::move(owner)) {}

 private:
  S* s_;
  std::shared_ptr<S> owner_;  // null when borrowed
};

template <FullDuplexStream S>
class WriteHalf {
 public:
  auto write(std::span<const std::byte> data) { return s_->write(data); }
  // Ends the write direction (the peer reads end of stream), where the
  // stream can: a socket's shutdown(Shutdown::kWrite), a DuplexStream's
  // shutdown().
  auto shutdown()
    requires(requires(S& s) { s.shutdown(Shutdown::kWrite); } ||
             requires(S& s) { s.shutdown(); })
  {
    if constexpr (requires(S& s) { s.shutdown(Shutdown::kWrite); }) {
      return s_->shutdown(Shutdown::kWrite);
    } else {
      return s_->shutdown();
    }
  }
  S& get_ref() noexcept { return *s_; }

  // Made by split(); `owner` is null when borrowed.
  WriteHalf(S* s, std::shared_ptr<S> owner) : s_(s), owner_(std::move(owner)) {}

 private:
  S* s_;
  std::shared_ptr<S> owner_;
};

// Borrowing: `s` must outlive both halves.
template <FullDuplexStream S>
std::pair<ReadHalf<S>, WriteHalf<S>> split(S& s) {
  return {ReadHalf<S>(&s, nullptr), WriteHalf<S>(&s, nullptr)};
}

// Owning: the halves share the stream.
template <FullDuplexStream S>
  requires(!std::is_lvalue_reference_v<S>)
std::pair<ReadHalf<S>, WriteHalf<S>> split(S&& s) {
  auto owner = std::make_shared<S>(std::move(s));
  S* p = owner.get();
  return {ReadHalf<S>(p, owner), WriteHalf<S>(p, owner)};
}

}  // namespace weft

#endif  // WEFT_IO_SPLIT_H_
