// Generic stream helpers: read_exact, read_to_end, read_to_string,
// write_all (write_all.h), copy. For any AsyncRead / AsyncWrite
// (concepts.h).
//
// What it is for: the loops every protocol writes (fill this buffer, drain
// that one, pump a reader into a writer), once, for every weft stream and
// a user's own.
//
// Requires: the stream outlives the returned Task (it is taken by
// reference, as the members of Async<T> take `this`).
//
// Guarantees:
//   - Errors are the stream's own statuses, passed on unchanged. A stream
//     that ends too early gives OutOfRange (read_exact); a writer that
//     accepts 0 bytes of a non-empty buffer gives DataLoss (write_all).
//   - Lose nothing: read_to_end appends what it read to `out` even when it
//     fails (at the cap, `out` holds up to max_bytes + 1 new bytes: the one
//     over proves the stream was longer).
//   - read_to_end / read_to_string stop with ResourceExhausted once the
//     stream has more than `max_bytes`. The default, kDefaultReadLimit
//     (64 MiB), keeps a peer that never stops sending from taking all
//     memory; pass a larger cap (or SIZE_MAX) when you mean it.
//   - copy() moves bytes with splice(2) between two fd streams (splice.h)
//     and through one 64 KiB buffer otherwise, and returns how many it
//     copied once the reader ends; on an error the count of what got
//     through is lost with it (as tokio's copy).
//
// Example:
//   auto [a, b] = weft::TcpStream::pair().value();
//   co_await weft::write_all(a, "hello");
//   a.shutdown(weft::Shutdown::kWrite);
//   absl::StatusOr<std::string> s = co_await weft::read_to_string(b);  // "hello"
#ifndef WEFT_IO_IO_H_
#define WEFT_IO_IO_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "executor/task.h"
#include "io/concepts.h"
#include "io/splice.h"
#include "io/write_all.h"

namespace weft {

// read_to_end / read_to_string's default cap on what they collect.
inline constexpr size_t kDefaultReadLimit = size_t{64} << 20;
// copy()'s buffer.
inline constexpr size_t kCopyBufferSize = 64 * 1024;

// Fills `buf` completely; OutOfRange if the stream ends first (what was
// read stays in buf).
template <AsyncRead R>
Task<absl::Status> read_exact(R& r, std::span<std::byte> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    absl::StatusOr<size_t> n = co_await r.read(buf.subspan(got));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return absl::OutOfRangeError(absl::StrCat("weft: read_exact: end of stream after ", got,
                                                   " of ", buf.size(), " bytes"));
    }
    got += *n;
  }
  co_return absl::OkStatus();
}
template <AsyncRead R>
Task<absl::Status> read_exact(R& r, void* buf, size_t len) {
  return read_exact(r, std::span<std::byte>(static_cast<std::byte*>(buf), len));
}

// Appends the rest of the stream to `out` (a std::string or a vector of a
// byte-sized type); returns how many bytes it appended. See the guarantees
// above for the cap.
template <AsyncRead R, class Buf>
  requires(sizeof(typename Buf::value_type) == 1)
Task<absl::StatusOr<size_t>> read_to_end(R& r, Buf& out, size_t max_bytes = kDefaultReadLimit) {
  const size_t start = out.size();
  size_t chunk = 4096;
  for (;;) {
    const size_t have = out.size() - start;
    // Room for one byte past the cap: reading it proves the stream is longer.
    const size_t room = have > max_bytes ? 0 : max_bytes - have + 1;
    const size_t want = std::min(chunk, room);
    const size_t old = out.size();
    out.resize(old + want);
    absl::StatusOr<size_t> n =
        co_await r.read(std::span<std::byte>(reinterpret_cast<std::byte*>(out.data() + old), want));
    out.resize(old + (n.ok() ? *n : 0));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return out.size() - start;
    if (out.size() - start > max_bytes) {
      co_return absl::ResourceExhaustedError(absl::StrCat(
          "weft: read_to_end: the stream is longer than the limit of ", max_bytes, " bytes"));
    }
    if (*n == want && chunk < kCopyBufferSize) chunk *= 2;  // grow with the stream
  }
}

// The rest of the stream as a string (see read_to_end). The bytes are not
// checked for UTF-8: a std::string holds any bytes.
template <AsyncRead R>
Task<absl::StatusOr<std::string>> read_to_string(R& r, size_t max_bytes = kDefaultReadLimit) {
  std::string s;
  absl::StatusOr<size_t> n = co_await read_to_end(r, s, max_bytes);
  if (!n.ok()) co_return n.status();
  co_return s;
}

// Reads `r` to its end and writes everything to `w`; the byte count.
// Between two fd streams (sockets, pipes, Async<T>: SpliceStream in
// splice.h) the bytes move with splice(2), never through user space; when
// the kernel refuses that for these fds, through a 64 KiB buffer.
template <AsyncRead R, AsyncWrite W>
Task<absl::StatusOr<uint64_t>> copy(R& r, W& w) {
  uint64_t total = 0;
  if constexpr (SpliceStream<R> && SpliceStream<W>) {
    bool refused = false;
    absl::StatusOr<uint64_t> n = co_await detail::splice_pump(r, w, &refused);
    if (!refused || !n.ok()) co_return n;
    total = *n;  // already written; go on through the buffer
  }
  auto buf = std::make_unique<std::byte[]>(kCopyBufferSize);
  for (;;) {
    absl::StatusOr<size_t> n = co_await r.read(std::span<std::byte>(buf.get(), kCopyBufferSize));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return total;
    absl::Status st = co_await write_all(w, std::span<const std::byte>(buf.get(), *n));
    if (!st.ok()) co_return st;
    total += *n;
  }
}

}  // namespace weft

#endif  // WEFT_IO_IO_H_
