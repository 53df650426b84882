// write_all: writes a whole buffer to any AsyncWrite (concepts.h), however
// few bytes each write takes.
//
// What it is for: the one loop over partial writes in weft. io.h's helpers
// (copy's buffer path), splice.h's fallback for a destination that
// refuses splice(2) and Async<T>::write_all (async_fd/async.h) all write
// through it; it has its own header (and Bazel target, //io:write_all)
// because io.h includes splice.h, so splice.h cannot include io.h, and
// because async_fd/, which io/ builds on, cannot include io.h either.
//
// Requires: the writer (and the bytes) outlive the returned Task.
//
// Guarantees:
//   - Errors are the writer's own statuses, passed on unchanged; how much
//     got through before one is not reported (as tokio's write_all).
//   - A writer that accepts 0 bytes of a non-empty buffer gives DataLoss,
//     instead of a loop that never ends.
//
// Example:
//   auto [a, b] = weft::TcpStream::pair().value();
//   absl::Status st = co_await weft::write_all(a, "hello");
#ifndef WEFT_IO_WRITE_ALL_H_
#define WEFT_IO_WRITE_ALL_H_

#include <cstddef>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "executor/task.h"
#include "io/concepts.h"

namespace weft {

// Writes all of `data`.
template <AsyncWrite W>
Task<absl::Status> write_all(W& w, std::span<const std::byte> data) {
  size_t put = 0;
  while (put < data.size()) {
    absl::StatusOr<size_t> n = co_await w.write(data.subspan(put));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return absl::DataLossError(
          absl::StrCat("weft: write_all: the writer accepted 0 bytes after ", put, " of ",
                       data.size()));
    }
    put += *n;
  }
  co_return absl::OkStatus();
}
template <AsyncWrite W>
Task<absl::Status> write_all(W& w, const void* data, size_t len) {
  return write_all(w, std::span<const std::byte>(static_cast<const std::byte*>(data), len));
}
// The bytes of `s` (the caller keeps them alive until the Task completes).
template <AsyncWrite W>
Task<absl::Status> write_all(W& w, std::string_view s) {
  return write_all(w, std::as_bytes(std::span(s.data(), s.size())));
}

}  // namespace weft

#endif  // WEFT_IO_WRITE_ALL_H_
