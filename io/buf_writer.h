// BufWriter<W>: a buffer in front of an AsyncWrite.
//
// What it is for: many small writes (a header field at a time) becoming
// few large ones, without a syscall each.
//
// Requires: W is AsyncWrite; BufWriter owns it. One task at a time.
//
// Guarantees:
//   - BufWriter is itself AsyncWrite: write() accepts all of its data. Data
//     that fits joins the buffer; when it would overflow, the buffer is
//     written first; data at least as large as the buffer goes straight to
//     W after that. An error from W is returned by the write or flush that
//     met it; the bytes W did not take stay buffered (lose nothing), so a
//     later flush() retries them.
//   - flush() writes everything buffered, then flushes W if W has a flush()
//     (Unblock, fs::File): on success every byte reached W.
//   - close() is flush() then, where W can, shutting its write side
//     (a socket's shutdown(Shutdown::kWrite)): "flush on close".
//   - Destroying a BufWriter does NOT flush: writing is asynchronous and a
//     destructor cannot co_await, and doing it in the background would lose
//     its errors. Buffered bytes are dropped. Call flush() or close() first.
//     tokio's BufWriter does the same (its docs: call flush before dropping,
//     or the buffered data is lost); Rust's std BufWriter flushes in drop
//     only because its writes block.
//
// Example:
//   weft::BufWriter out(std::move(stream));
//   co_await weft::write_all(out, "HTTP/1.1 200 OK\r\n");
//   co_await weft::write_all(out, "Content-Length: 0\r\n\r\n");
//   absl::Status st = co_await out.flush();
#ifndef WEFT_IO_BUF_WRITER_H_
#define WEFT_IO_BUF_WRITER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "async_fd/tcp.h"
#include "executor/task.h"
#include "io/buf_reader.h"
#include "io/concepts.h"
#include "io/io.h"

namespace weft {

template <AsyncWrite W>
class BufWriter {
 public:
  explicit BufWriter(W inner, size_t capacity = kDefaultBufferSize)
      : inner_(std::move(inner)),
        cap_(std::max<size_t>(capacity, 1)),
        buf_(std::make_unique<std::byte[]>(cap_)) {}
  BufWriter(BufWriter&&) noexcept = default;
  BufWriter& operator=(BufWriter&&) noexcept = default;

  W& get_ref() noexcept { return inner_; }
  // The writer; unflushed bytes are dropped (flush first).
  W into_inner() && { return std::move(inner_); }
  // Bytes buffered and not yet written.
  std::span<const std::byte> buffer() const noexcept { return {buf_.get(), len_}; }

  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data) {
    if (len_ + data.size() > cap_) {
      absl::Status st = co_await write_buffer();
      if (!st.ok()) co_return st;
    }
    if (data.size() >= cap_) {
      absl::Status st = co_await write_all(inner_, data);
      if (!st.ok()) co_return st;
    } else {
      std::memcpy(buf_.get() + len_, data.data(), data.size());
      len_ += data.size();
    }
    co_return data.size();
  }

  Task<absl::Status> flush() {
    absl::Status st = co_await write_buffer();
    if (!st.ok()) co_return st;
    if constexpr (requires { inner_.flush(); }) {
      co_return co_await inner_.flush();
    } else {
      co_return absl::OkStatus();
    }
  }

  Task<absl::Status> close() {
    absl::Status st = co_await flush();
    if (!st.ok()) co_return st;
    if constexpr (requires { inner_.shutdown(Shutdown::kWrite); }) {
      co_return inner_.shutdown(Shutdown::kWrite);
    } else if constexpr (requires { inner_.shutdown(); }) {
      inner_.shutdown();
    }
    co_return absl::OkStatus();
  }

 private:
  // Writes the buffer out; on an error keeps what W did not take.
  Task<absl::Status> write_buffer() {
    size_t put = 0;
    absl::Status st;
    while (put < len_) {
      absl::StatusOr<size_t> n =
          co_await inner_.write(std::span<const std::byte>(buf_.get() + put, len_ - put));
      if (!n.ok()) {
        st = n.status();
        break;
      }
      if (*n == 0) {
        st = absl::DataLossError("weft: BufWriter: the writer accepted 0 bytes");
        break;
      }
      put += *n;
    }
    if (put) {
      std::memmove(buf_.get(), buf_.get() + put, len_ - put);
      len_ -= put;
    }
    co_return st;
  }

  W inner_;
  size_t cap_;
  std::unique_ptr<std::byte[]> buf_;
  size_t len_ = 0;
};

template <class W>
BufWriter(W) -> BufWriter<W>;
template <class W>
BufWriter(W, size_t) -> BufWriter<W>;

}  // namespace weft

#endif  // WEFT_IO_BUF_WRITER_H_
