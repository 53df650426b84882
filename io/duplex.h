// duplex(capacity): an in-memory, full-duplex byte pipe, for tests.
//
// What it is for: testing protocol code without sockets (as tokio's
// io::duplex). Each of the two DuplexStream ends is AsyncRead and
// AsyncWrite; what one end writes the other reads.
//
// Guarantees:
//   - Each direction buffers at most `capacity` bytes (>= 1): a write waits
//     while the buffer is full and accepts as much as fits (>= 1 byte).
//     A read waits while it is empty and returns what is there.
//   - shutdown() (or destroying an end) ends the stream it writes: the
//     other end reads the buffered bytes, then 0 (end of stream). Writing
//     to an end whose peer was destroyed fails with FailedPrecondition
//     ("broken pipe"), as a socket's EPIPE does in weft; so does writing
//     after one's own shutdown().
//   - One task may read while another writes the same end (split.h);
//     several readers (or writers) of one end may wait at once, but get the
//     bytes in an unspecified split. Ends may be used from any thread.
//   - Each completed read or write consumes one unit of the task's
//     cooperative budget (executor/coop.h), so a task pumping two pipes
//     still yields to others.
//
// Example:
//   auto [client, server] = weft::duplex(64);
//   co_await weft::write_all(client, "ping");
//   char buf[4];
//   co_await weft::read_exact(server, buf, 4);
#ifndef WEFT_IO_DUPLEX_H_
#define WEFT_IO_DUPLEX_H_

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

#include "absl/status/statusor.h"
#include "executor/task.h"

namespace weft {

namespace detail {
class DuplexPipe;  // one direction; duplex.cc
}  // namespace detail

class DuplexStream {
 public:
  DuplexStream(DuplexStream&&) noexcept = default;
  DuplexStream& operator=(DuplexStream&& o) noexcept;
  DuplexStream(const DuplexStream&) = delete;
  DuplexStream& operator=(const DuplexStream&) = delete;
  ~DuplexStream();

  // Up to buf.size() bytes; 0 once the peer shut down (or is gone) and
  // everything it wrote was read. An empty span reads 0 at once.
  Task<absl::StatusOr<size_t>> read(std::span<std::byte> buf);
  // As many bytes as fit (>= 1 of a non-empty span).
  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data);
  // Ends this end's writing direction: the peer reads end of stream.
  // Idempotent; reading goes on.
  void shutdown() noexcept;

 private:
  friend std::pair<DuplexStream, DuplexStream> duplex(size_t capacity);
  DuplexStream(std::shared_ptr<detail::DuplexPipe> in, std::shared_ptr<detail::DuplexPipe> out)
      : in_(std::move(in)), out_(std::move(out)) {}
  void release() noexcept;

  std::shared_ptr<detail::DuplexPipe> in_;   // we read it
  std::shared_ptr<detail::DuplexPipe> out_;  // we write it
};

// Two connected ends; each direction holds at most `capacity` bytes
// (0 is taken as 1).
std::pair<DuplexStream, DuplexStream> duplex(size_t capacity);

}  // namespace weft

#endif  // WEFT_IO_DUPLEX_H_
