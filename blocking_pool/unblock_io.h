// Unblock<T>: a blocking stream (a pipe, a terminal, stdin/stdout, a FILE*,
// a blocking library's stream) used from tasks, through the blocking pool.
//
// What it is for: streams that cannot be polled with epoll (a regular
// file, a FILE*, a C library's blocking handle), or that you would rather
// not switch to non-blocking mode (the process's stdin and stdout, shared
// with other code). Each read or write that needs the stream runs as one
// job on the blocking pool; the task awaits it without blocking its worker.
//
// How (after smol's Unblock): the stream T moves into the job and back with
// the result, so only one job uses it at a time and no lock is needed.
// Buffers are bounded: a read job reads up to kChunk (64 KiB, a pipe's
// capacity) and the task consumes it; writes are copied into a kChunk
// buffer that goes to the pool when full, while the task fills a second
// one, so at most 2 x kChunk is buffered. No read starts unless a read()
// asks for data, so a stream used in both directions (a terminal, a
// socket) is never stuck in a read while the task wants to write; a read
// first flushes buffered writes (a prompt is shown before its answer is
// awaited).
//
// Requires: T satisfies BlockingReader and/or BlockingWriter
// (blocking_io.h). One task at a time uses an Unblock (a second concurrent
// operation throws std::logic_error).
//
// Guarantees: reads return what one blocking read returned (0 at the end);
// write() accepts all its data (as fs::File does) and a background write's
// error comes back from the next write or flush; flush() returns once all
// data reached T and T.flush() (if it has one) ran. Cancelling a task in the
// middle of an operation leaves the Unblock usable (the job stays with it).
// Destroying an Unblock hands T to a last job that finishes a write in
// flight, writes what is buffered, flushes and destroys T on a pool thread;
// a read in flight keeps T until that read returns (for a pipe: until data
// or EOF arrives), as in smol.
//
// Example:
//   weft::Unblock<weft::BlockingFd> in(weft::BlockingFd(::dup(0), "stdin"));
//   std::array<std::byte, 4096> buf;
//   while (true) {
//     absl::StatusOr<size_t> n = co_await in.read(buf);
//     if (!n.ok() || *n == 0) break;
//     ...
//   }
#ifndef WEFT_BLOCKING_POOL_UNBLOCK_IO_H_
#define WEFT_BLOCKING_POOL_UNBLOCK_IO_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "blocking_pool/blocking_io.h"
#include "blocking_pool/blocking_job.h"
#include "blocking_pool/unblock.h"
#include "executor/task.h"

namespace weft {

template <class T>
  requires(BlockingReader<T> || BlockingWriter<T>)
class Unblock {
 public:
  // Bytes per read job and per write buffer: a pipe's default capacity, so
  // one job moves what one blocking call can at most.
  static constexpr size_t kChunk = 64 * 1024;

  explicit Unblock(T inner) : inner_(std::move(inner)) {}
  Unblock(Unblock&& o) noexcept
      : inner_(std::exchange(o.inner_, std::nullopt)),
        pending_(std::exchange(o.pending_, std::nullopt)),
        pending_read_(o.pending_read_),
        rbuf_(std::exchange(o.rbuf_, Buffer{})),
        wbuf_(std::exchange(o.wbuf_, Buffer{})),
        spare_(std::exchange(o.spare_, Buffer{})),
        read_error_(std::exchange(o.read_error_, absl::OkStatus())),
        write_error_(std::exchange(o.write_error_, absl::OkStatus())),
        at_end_(std::exchange(o.at_end_, false)) {}
  Unblock& operator=(Unblock&&) = delete;
  Unblock(const Unblock&) = delete;
  Unblock& operator=(const Unblock&) = delete;
  ~Unblock() { release_to_pool(); }

  // Up to buf.size() bytes; 0 at the end of the stream.
  Task<absl::StatusOr<size_t>> read(std::span<std::byte> buf)
    requires BlockingReader<T>
  {
    OpScope scope(this);
    if (buf.empty()) co_return size_t{0};
    if (wbuf_.len || (pending_ && !pending_read_)) {
      if (absl::Status st = co_await drain(); !st.ok()) co_return st;
    }
    for (;;) {
      if (rbuf_.pos < rbuf_.len) {
        size_t n = std::min(buf.size(), rbuf_.len - rbuf_.pos);
        std::memcpy(buf.data(), rbuf_.data.get() + rbuf_.pos, n);
        rbuf_.pos += n;
        co_return n;
      }
      if (pending_) {
        co_await settle();
        continue;
      }
      if (!read_error_.ok()) co_return std::exchange(read_error_, absl::OkStatus());
      if (at_end_) {
        at_end_ = false;  // reported once; a later read asks again
        co_return size_t{0};
      }
      if (!inner_) co_return gone();
      submit_read();
    }
  }
  Task<absl::StatusOr<size_t>> read(std::span<char> buf)
    requires BlockingReader<T>
  {
    return read(std::as_writable_bytes(buf));
  }

  // Accepts all of `data` (see the guarantees above).
  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data)
    requires BlockingWriter<T>
  {
    OpScope scope(this);
    if (pending_ && pending_read_) co_await settle();
    if (!write_error_.ok()) co_return std::exchange(write_error_, absl::OkStatus());
    size_t done = 0;
    while (done < data.size()) {
      if (!wbuf_.data) wbuf_ = take_spare();
      size_t n = std::min(data.size() - done, kChunk - wbuf_.len);
      std::memcpy(wbuf_.data.get() + wbuf_.len, data.data() + done, n);
      wbuf_.len += n;
      done += n;
      if (wbuf_.len < kChunk) break;
      if (pending_) co_await settle();  // the previous buffer is written
      if (!write_error_.ok()) co_return std::exchange(write_error_, absl::OkStatus());
      if (!inner_) co_return gone();
      submit_write(/*flush=*/false);
    }
    co_return data.size();
  }
  Task<absl::StatusOr<size_t>> write(std::string_view data)
    requires BlockingWriter<T>
  {
    return write(std::as_bytes(std::span(data.data(), data.size())));
  }

  // Writes everything buffered, then flushes T.
  Task<absl::Status> flush()
    requires BlockingWriter<T>
  {
    OpScope scope(this);
    co_return co_await drain();
  }

  // Flushes (for a writer), waits for the job in flight and hands T back.
  Task<absl::StatusOr<T>> into_inner() {
    OpScope scope(this);
    absl::Status st;
    if constexpr (BlockingWriter<T>) {
      st = co_await drain();
    } else {
      co_await settle();
    }
    if (!inner_) co_return gone();
    if (!st.ok()) co_return st;
    T inner = std::move(*inner_);
    inner_.reset();
    co_return std::move(inner);
  }

 private:
  struct Buffer {
    std::unique_ptr<std::byte[]> data;
    size_t len = 0;
    size_t pos = 0;
  };
  // What a job hands back: the stream, its result, the buffer.
  struct Outcome {
    std::optional<T> inner;
    absl::StatusOr<size_t> n;
    Buffer buf;
  };

  class OpScope {
   public:
    explicit OpScope(Unblock* u) : u_(u) {
      if (u_->busy_) {
        throw std::logic_error(
            "weft: two operations at once on one weft::Unblock (await each before the next)");
      }
      u_->busy_ = true;
    }
    ~OpScope() { u_->busy_ = false; }
    OpScope(const OpScope&) = delete;
    OpScope& operator=(const OpScope&) = delete;

   private:
    Unblock* u_;
  };

  static absl::Status gone() {
    return absl::FailedPreconditionError("weft::Unblock: the stream was taken by into_inner()");
  }

  Buffer take_spare() {
    Buffer b = std::exchange(spare_, Buffer{});
    if (!b.data) b.data = std::make_unique_for_overwrite<std::byte[]>(kChunk);
    b.len = b.pos = 0;
    return b;
  }

  void submit_read() {
    pending_read_ = true;
    pending_.emplace(unblock([inner = std::move(*inner_), buf = take_spare()]() mutable {
      absl::StatusOr<size_t> n = inner.read(std::span(buf.data.get(), kChunk));
      return Outcome{std::move(inner), std::move(n), std::move(buf)};
    }));
    inner_.reset();
  }

  void submit_write(bool flush) {
    pending_read_ = false;
    pending_.emplace(unblock([inner = std::move(*inner_), buf = std::exchange(wbuf_, Buffer{}),
                              flush]() mutable {
      static_cast<void>(flush);  // read only when T flushes: -Wunused-lambda-capture
      absl::StatusOr<size_t> n = write_all(inner, buf);
      if constexpr (BlockingFlush<T>) {
        if (n.ok() && flush) {
          if (absl::Status st = inner.flush(); !st.ok()) n = st;
        }
      }
      buf.len = 0;
      return Outcome{std::move(inner), std::move(n), std::move(buf)};
    }));
    inner_.reset();
  }

  static absl::StatusOr<size_t> write_all(T& inner, const Buffer& buf) {
    size_t done = 0;
    while (done < buf.len) {
      absl::StatusOr<size_t> n = inner.write(std::span(buf.data.get() + done, buf.len - done));
      if (!n.ok()) return n;
      if (*n == 0) return absl::UnavailableError("weft::Unblock: the stream accepted no data");
      done += *n;
    }
    return done;
  }

  // Waits for the job in flight and takes T (and its result) back.
  Task<void> settle() {
    if (!pending_) co_return;
    Outcome o = co_await *pending_;
    pending_.reset();
    inner_ = std::move(o.inner);
    if (pending_read_) {
      if (!o.n.ok()) {
        read_error_ = o.n.status();
        spare_ = std::move(o.buf);
      } else if (*o.n == 0) {
        at_end_ = true;
        spare_ = std::move(o.buf);
      } else {
        spare_ = std::exchange(rbuf_, std::move(o.buf));
        rbuf_.len = *o.n;
        rbuf_.pos = 0;
      }
    } else {
      if (!o.n.ok() && write_error_.ok()) write_error_ = o.n.status();
      spare_ = std::move(o.buf);
    }
  }

  // Waits for the job in flight, writes what is buffered and flushes T.
  Task<absl::Status> drain() {
    co_await settle();
    if constexpr (BlockingWriter<T>) {
      if (!write_error_.ok()) co_return std::exchange(write_error_, absl::OkStatus());
      if (!inner_) co_return gone();
      if (!wbuf_.data) wbuf_ = take_spare();
      submit_write(/*flush=*/true);
      co_await settle();
      if (!write_error_.ok()) co_return std::exchange(write_error_, absl::OkStatus());
    }
    co_return absl::OkStatus();
  }

  void release_to_pool() noexcept {
    if (pending_ && pending_read_) {
      // A read in flight keeps T and drops it when it returns.
      std::exchange(pending_, std::nullopt)->detach();
    }
    if (!pending_ && !inner_) return;
    unblock([pending = std::exchange(pending_, std::nullopt),
             inner = std::exchange(inner_, std::nullopt),
             buf = std::exchange(wbuf_, Buffer{})]() mutable {
      if (pending) inner = std::move(pending->wait().inner);
      if constexpr (BlockingWriter<T>) {
        if (inner && buf.len) (void)write_all(*inner, buf);
        if constexpr (BlockingFlush<T>) {
          if (inner) (void)inner->flush();
        }
      }
      inner.reset();  // T's destructor (close, fclose) runs here, off the executor
    }).detach();
  }

  std::optional<T> inner_;                      // here unless a job has it
  std::optional<BlockingJob<Outcome>> pending_;  // the one job in flight
  bool pending_read_ = false;                   // which kind it is
  Buffer rbuf_;   // [pos, len) not yet read by the task
  Buffer wbuf_;   // len bytes not yet handed to a job
  Buffer spare_;  // a buffer to reuse
  absl::Status read_error_;
  absl::Status write_error_;
  bool at_end_ = false;
  bool busy_ = false;
};

}  // namespace weft

#endif  // WEFT_BLOCKING_POOL_UNBLOCK_IO_H_
