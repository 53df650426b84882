// AsyncRead / AsyncWrite: what the stream helpers of io/ accept.
//
// What it is for: one generic read_exact, copy, BufReader... (io.h,
// buf_reader.h, buf_writer.h) over every byte stream in weft and over a
// user's own: TcpStream, UnixStream, Async<T>, Unblock<T>, fs::File, the
// in-memory duplex() pipe, and the halves of split().
//
// The shape (the one every weft stream already had, so none needed new
// members):
//   - AsyncRead:  `r.read(std::span<std::byte>)` is awaitable and gives an
//     absl::StatusOr<size_t>: bytes read, at least 1 when the span is not
//     empty, or 0 at the end of the stream.
//   - AsyncWrite: `w.write(std::span<const std::byte>)` is awaitable and
//     gives an absl::StatusOr<size_t>: bytes accepted (>= 1 for a non-empty
//     span; some types, Unblock and fs::File, always accept all of it).
// The awaitable is whatever the type returns (weft::Task, a custom
// awaiter); AwaitResult names what `co_await` gives. Spans rather than
// (void*, size_t): Async's void* overloads exist too, but Unblock and
// fs::File take spans only, and a span cannot mix up its two halves.
//
// Example:
//   struct Zeros {                       // a user's reader: endless zeros
//     weft::Task<absl::StatusOr<size_t>> read(std::span<std::byte> b) {
//       std::memset(b.data(), 0, b.size());
//       co_return b.size();
//     }
//   };
//   static_assert(weft::AsyncRead<Zeros>);
#ifndef WEFT_IO_CONCEPTS_H_
#define WEFT_IO_CONCEPTS_H_

#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"

namespace weft {
namespace detail {

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else if constexpr (requires { operator co_await(std::forward<A>(a)); }) {
    return operator co_await(std::forward<A>(a));
  } else {
    return std::forward<A>(a);
  }
}

}  // namespace detail

// What `co_await a` gives for an awaitable of type A (as a temporary).
template <class A>
using AwaitResult = decltype(detail::get_awaiter(std::declval<A>()).await_resume());

template <class R>
concept AsyncRead = requires(R& r, std::span<std::byte> buf) {
  { r.read(buf) };
  requires std::convertible_to<AwaitResult<decltype(r.read(buf))>, absl::StatusOr<size_t>>;
};

template <class W>
concept AsyncWrite = requires(W& w, std::span<const std::byte> buf) {
  { w.write(buf) };
  requires std::convertible_to<AwaitResult<decltype(w.write(buf))>, absl::StatusOr<size_t>>;
};

}  // namespace weft

#endif  // WEFT_IO_CONCEPTS_H_
