// BufReader<R>: a buffer in front of an AsyncRead, with line reading.
//
// What it is for: protocols framed by delimiters (lines, NUL-separated
// records) and many small reads, without a syscall per byte (as
// futures-lite's / tokio's BufReader).
//
// Requires: R is AsyncRead; BufReader owns it (use a ReadHalf from split.h,
// or a pointer-like wrapper of your own, to keep the stream elsewhere).
// One task at a time uses a BufReader.
//
// Guarantees:
//   - BufReader is itself AsyncRead: read() serves buffered bytes first; a
//     read at least as large as the buffer, with the buffer empty, goes
//     straight to R.
//   - fill_buf() returns the buffered bytes, reading once from R if there
//     are none (empty = end of stream); consume(n) drops n of them.
//   - read_until(delim, out, max) appends up to and including `delim`;
//     read_line appends a line with its '\n'. Both return the count
//     appended, 0 at the end of the stream; a last line without '\n' is
//     returned as it is. Past `max` bytes without the delimiter they stop
//     with ResourceExhausted, and the bytes read so far stay in `out` (the
//     rest of the line stays in the stream). A line of exactly `max` bytes,
//     delimiter included, is fine. kDefaultMaxLine is 64 KiB: enough for
//     any sane header or text line, small enough that a peer cannot grow a
//     line without bound.
//   - next_line() is the line iterator: the next line without its "\n" or
//     "\r\n", std::nullopt at the end.
//
// Example:
//   weft::BufReader reader(std::move(stream));
//   for (;;) {
//     auto line = co_await reader.next_line();
//     if (!line.ok() || !*line) break;     // error, or end of stream
//     handle(**line);
//   }
#ifndef WEFT_IO_BUF_READER_H_
#define WEFT_IO_BUF_READER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "executor/task.h"
#include "io/concepts.h"

namespace weft {

inline constexpr size_t kDefaultBufferSize = 8 * 1024;
inline constexpr size_t kDefaultMaxLine = 64 * 1024;

template <AsyncRead R>
class BufReader {
 public:
  explicit BufReader(R inner, size_t capacity = kDefaultBufferSize)
      : inner_(std::move(inner)),
        cap_(std::max<size_t>(capacity, 1)),
        buf_(std::make_unique<std::byte[]>(cap_)) {}
  BufReader(BufReader&&) noexcept = default;
  BufReader& operator=(BufReader&&) noexcept = default;

  R& get_ref() noexcept { return inner_; }
  // The stream; buffered bytes not yet consumed are lost with the reader.
  R into_inner() && { return std::move(inner_); }
  // What is buffered and not consumed.
  std::span<const std::byte> buffer() const noexcept {
    return {buf_.get() + pos_, filled_ - pos_};
  }
  size_t capacity() const noexcept { return cap_; }

  Task<absl::StatusOr<std::span<const std::byte>>> fill_buf() {
    if (pos_ == filled_) {
      absl::StatusOr<size_t> n = co_await inner_.read(std::span<std::byte>(buf_.get(), cap_));
      if (!n.ok()) co_return n.status();
      pos_ = 0;
      filled_ = *n;
    }
    co_return buffer();
  }
  void consume(size_t n) noexcept { pos_ += std::min(n, filled_ - pos_); }

  Task<absl::StatusOr<size_t>> read(std::span<std::byte> out) {
    if (out.empty()) co_return size_t{0};
    if (pos_ == filled_ && out.size() >= cap_) co_return co_await inner_.read(out);
    absl::StatusOr<std::span<const std::byte>> have = co_await fill_buf();
    if (!have.ok()) co_return have.status();
    const size_t n = std::min(out.size(), have->size());
    if (n) std::memcpy(out.data(), have->data(), n);
    consume(n);
    co_return n;
  }

  // See the header comment.
  Task<absl::StatusOr<size_t>> read_until(char delim, std::string& out,
                                          size_t max = kDefaultMaxLine) {
    size_t added = 0;
    for (;;) {
      absl::StatusOr<std::span<const std::byte>> have = co_await fill_buf();
      if (!have.ok()) co_return have.status();
      if (have->empty()) co_return added;  // end of stream
      const char* p = reinterpret_cast<const char*>(have->data());
      const void* hit = std::memchr(p, delim, have->size());
      const size_t take = hit ? static_cast<size_t>(static_cast<const char*>(hit) - p) + 1
                              : have->size();
      if (added + take > max) {
        const size_t fits = max - added;  // keep what fits, lose nothing
        out.append(p, fits);
        consume(fits);
        co_return absl::ResourceExhaustedError(
            absl::StrCat("weft: BufReader::read_until: no delimiter within ", max, " bytes"));
      }
      out.append(p, take);
      consume(take);
      added += take;
      if (hit) co_return added;
    }
  }

  Task<absl::StatusOr<size_t>> read_line(std::string& out, size_t max = kDefaultMaxLine) {
    return read_until('\n', out, max);
  }

  Task<absl::StatusOr<std::optional<std::string>>> next_line(size_t max = kDefaultMaxLine) {
    std::string line;
    absl::StatusOr<size_t> n = co_await read_until('\n', line, max);
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return std::optional<std::string>();
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      if (!line.empty() && line.back() == '\r') line.pop_back();
    }
    co_return std::optional<std::string>(std::move(line));
  }

 private:
  R inner_;
  size_t cap_;
  std::unique_ptr<std::byte[]> buf_;
  size_t pos_ = 0;     // first unconsumed byte
  size_t filled_ = 0;  // end of the buffered bytes
};

template <class R>
BufReader(R) -> BufReader<R>;
template <class R>
BufReader(R, size_t) -> BufReader<R>;

}  // namespace weft

#endif  // WEFT_IO_BUF_READER_H_
