// weft::fs::File's buffered stream: read() with read-ahead and write()
// with write-behind, in chunks that grow to kMaxChunk. Opening, positioned
// I/O, seek, sync, metadata and close are in fs_file.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "blocking_pool/fs_file.h"
#include "blocking_pool/fs_file_internal.h"
#include "blocking_pool/unblock.h"

namespace weft::fs {
namespace {

// The first read-ahead and write-behind buffers: small files stay cheap.
constexpr size_t kFirstChunk = 64 * 1024;
// The largest: one pool hop (~5-15 us here, two thread wake-ups) per MiB
// moved is ~1% of the time a warm page cache needs to copy that MiB, and a
// MiB still fits in L2, where the task's copy out of it stays fast.
constexpr size_t kMaxChunk = 1024 * 1024;

using detail::Chunk;
using detail::FileJobResult;
using detail::seek_back;
using detail::write_all;

Chunk make_chunk(size_t size) {
  return Chunk{std::make_unique_for_overwrite<std::byte[]>(size), size, 0};
}

}  // namespace

// --- buffers ---------------------------------------------------------------

void File::recycle(Chunk chunk) {
  if (chunk.data && (!spare_.data || chunk.cap > spare_.cap)) {
    chunk.len = 0;
    spare_ = std::move(chunk);
  }
}

Chunk File::take_spare(size_t size) {
  if (spare_.data && spare_.cap >= size) {
    // exchange, not move: a moved-from Chunk keeps its cap, and recycle()
    // would then see a spare as big as the one it is offered and free that
    // one (every read-ahead and write-behind chunk was then a fresh 1 MiB
    // allocation, whose pages the copies faulted in again).
    Chunk c = std::exchange(spare_, Chunk{});
    c.len = 0;
    return c;
  }
  return make_chunk(size);
}

// --- reading ---------------------------------------------------------------

void File::start_read(size_t size) {
  Chunk chunk = take_spare(size);
  uint64_t back = std::exchange(os_ahead_, 0);
  pending_kind_ = Pending::kRead;
  pending_.emplace(unblock([fd = fd_, chunk = std::move(chunk), back, size,
                            path = path_]() mutable -> FileJobResult {
    FileJobResult r{seek_back(fd, back, path), std::move(chunk), size};
    while (r.status.ok()) {
      ssize_t n = ::read(fd, r.chunk.data.get(), size);
      if (n >= 0) {
        r.chunk.len = static_cast<size_t>(n);
        break;
      }
      if (errno != EINTR) r.status = detail::errno_error(errno, "read", path);
    }
    return r;
  }));
}

Task<void> File::settle_other() {
  if (pending_kind_ != Pending::kOther) co_return;
  FileJobResult r = co_await *pending_;
  pending_.reset();
  pending_kind_ = Pending::kNone;
  recycle(std::move(r.chunk));
}

Task<void> File::settle_read() {
  if (pending_kind_ != Pending::kRead) co_return;
  FileJobResult r = co_await *pending_;
  pending_.reset();
  pending_kind_ = Pending::kNone;
  if (!r.status.ok()) {
    read_error_ = std::move(r.status);
    recycle(std::move(r.chunk));
  } else if (r.chunk.len == 0) {
    at_end_ = true;
    recycle(std::move(r.chunk));
  } else {
    short_read_ = r.chunk.len < r.value;
    next_ = std::move(r.chunk);
  }
}

Task<void> File::drop_read_side() {
  co_await settle_read();
  os_ahead_ += (rbuf_.len - rpos_) + next_.len;
  rpos_ = 0;
  rbuf_.len = 0;
  recycle(std::move(next_));
  next_ = Chunk{};
  short_read_ = false;
  at_end_ = false;
  read_error_ = absl::OkStatus();
  read_size_ = 0;
}

Task<absl::StatusOr<size_t>> File::read(std::span<std::byte> buf) {
  OpScope scope(this);
  if (absl::Status st = check_open("read"); !st.ok()) co_return st;
  if (!readable_) co_return detail::errno_error(EBADF, "read", path_);
  if (buf.empty()) co_return size_t{0};
  co_await settle_other();
  if (pending_kind_ == Pending::kWrite || wbuf_.len) {
    if (absl::Status st = co_await drain_writes(); !st.ok()) co_return st;
  }
  for (;;) {
    if (rpos_ < rbuf_.len) {
      size_t n = std::min(buf.size(), rbuf_.len - rpos_);
      std::memcpy(buf.data(), rbuf_.data.get() + rpos_, n);
      rpos_ += n;
      co_return n;
    }
    if (pending_kind_ == Pending::kRead) co_await settle_read();
    if (next_.len) {
      // The read-ahead becomes the current chunk; start the next one now,
      // so it is read while the task consumes this one.
      recycle(std::exchange(rbuf_, std::move(next_)));
      next_ = Chunk{};
      rpos_ = 0;
      if (!short_read_ && pending_kind_ == Pending::kNone) {
        read_size_ = std::min(kMaxChunk, std::max(read_size_ * 2, kFirstChunk));
        start_read(read_size_);
      }
      continue;
    }
    if (!read_error_.ok()) co_return std::exchange(read_error_, absl::OkStatus());
    if (at_end_) {
      // A read returned nothing: report the end once; the next read asks
      // the OS again (a file may grow, a terminal may get more input).
      at_end_ = false;
      short_read_ = false;
      read_size_ = 0;
      co_return size_t{0};
    }
    read_size_ = std::max({read_size_, kFirstChunk, std::min(buf.size(), kMaxChunk)});
    start_read(std::max(read_size_, buf.size()));
  }
}

// --- writing ---------------------------------------------------------------

void File::submit_write() {
  Chunk chunk = std::move(wbuf_);
  wbuf_ = Chunk{};
  uint64_t back = std::exchange(os_ahead_, 0);
  pending_kind_ = Pending::kWrite;
  pending_.emplace(unblock([fd = fd_, chunk = std::move(chunk), back,
                            path = path_]() mutable -> FileJobResult {
    absl::Status st = seek_back(fd, back, path);
    if (st.ok()) st = write_all(fd, chunk.data.get(), chunk.len, path);
    chunk.len = 0;
    return {std::move(st), std::move(chunk)};
  }));
}

Task<absl::Status> File::drain_writes() {
  co_await settle_other();
  for (;;) {
    if (pending_kind_ == Pending::kWrite) {
      FileJobResult r = co_await *pending_;
      pending_.reset();
      pending_kind_ = Pending::kNone;
      recycle(std::move(r.chunk));
      if (!r.status.ok() && write_error_.ok()) write_error_ = std::move(r.status);
    }
    if (!write_error_.ok()) co_return std::exchange(write_error_, absl::OkStatus());
    if (wbuf_.len == 0) co_return absl::OkStatus();
    submit_write();
  }
}

Task<absl::StatusOr<size_t>> File::write(std::span<const std::byte> data) {
  OpScope scope(this);
  if (absl::Status st = check_open("write"); !st.ok()) co_return st;
  if (!writable_) co_return detail::errno_error(EBADF, "write", path_);
  co_await settle_other();
  if (pending_kind_ == Pending::kRead || rbuf_.len || next_.len) co_await drop_read_side();
  if (!write_error_.ok()) co_return std::exchange(write_error_, absl::OkStatus());
  size_t done = 0;
  while (done < data.size()) {
    if (!wbuf_.data) {
      write_size_ = std::min(kMaxChunk, std::max(write_size_ * 2, kFirstChunk));
      wbuf_ = take_spare(write_size_);
    }
    size_t n = std::min(data.size() - done, wbuf_.cap - wbuf_.len);
    std::memcpy(wbuf_.data.get() + wbuf_.len, data.data() + done, n);
    wbuf_.len += n;
    done += n;
    if (wbuf_.len < wbuf_.cap) break;
    // Full: hand it to the pool once the previous one is written.
    if (pending_kind_ == Pending::kWrite) {
      FileJobResult r = co_await *pending_;
      pending_.reset();
      pending_kind_ = Pending::kNone;
      recycle(std::move(r.chunk));
      if (!r.status.ok()) co_return r.status;
    }
    submit_write();
  }
  co_return data.size();
}

}  // namespace weft::fs
