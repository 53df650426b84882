// fs::File: an open file read and written through the blocking pool in
// large units, so that a loop of small reads and writes runs near the speed
// of a synchronous one.
//
// What it is for: streaming a file from a task. Tokio's io::copy between
// files is ~6x slower than std's because every small read and write hops to
// a pool thread and back; File does what a BufReader/BufWriter would, on the
// pool's side of the hop:
// - Read-ahead: a read that finds no buffered data reads a chunk (64 KiB,
//   doubling on each sequential refill up to kMaxChunk, 1 MiB) in one job;
//   while the task consumes it, the next chunk is already being read. A 64
//   KiB read loop makes one pool hop per MiB, not per call.
// - Write-behind: write() copies into a buffer (same sizes) and returns;
//   a full buffer goes to the pool as one job while the task fills the
//   other. flush() (or close()) waits for everything to reach the OS.
// - One job is in flight per File at most, so operations keep their order;
//   positional reads and writes (read_at/write_at), seek, set_len, sync_*
//   and metadata first settle the buffers (the file offset the OS sees is
//   always corrected before it matters).
//
// Requires: one task at a time uses a File (two concurrent operations throw
// std::logic_error naming the mistake). Await every operation.
//
// Guarantees:
// - Errors as in fs_error.h, with the file's path. A background write's
//   failure is reported by the next write, flush, close or sync; call
//   flush() or close() to learn that everything was written.
// - Cancelling a task in the middle of an operation leaves the File usable:
//   the job it waited for stays with the File and the next operation picks
//   it up. (A cancelled write may have buffered part of its data.)
// - Destroying a File without close() still writes what was buffered and
//   closes the descriptor, in a last pool job, after any job in flight;
//   errors there are lost (as with a destructor anywhere).
//
// Example:
//   auto in = co_await weft::fs::File::open("in.bin");
//   auto out = co_await weft::fs::File::create("out.bin");
//   std::vector<std::byte> buf(64 * 1024);
//   for (;;) {
//     absl::StatusOr<size_t> n = co_await in->read(buf);
//     if (!n.ok() || *n == 0) break;
//     co_await out->write(std::span(buf).first(*n));
//   }
//   absl::Status st = co_await out->close();
#ifndef WEFT_BLOCKING_POOL_FS_FILE_H_
#define WEFT_BLOCKING_POOL_FS_FILE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "blocking_pool/blocking_job.h"
#include "blocking_pool/fs_metadata.h"
#include "executor/task.h"

namespace weft::fs {

// How to open a file (open(2) flags), as in Rust's OpenOptions:
//   File::open(path, {.write = true, .create = true, .truncate = true})
struct OpenOptions {
  bool read = false;
  bool write = false;
  bool append = false;      // every write goes to the end (implies write)
  bool truncate = false;    // O_TRUNC (needs write)
  bool create = false;      // O_CREAT
  bool create_new = false;  // O_CREAT | O_EXCL: AlreadyExists if it exists
  mode_t mode = 0666;       // for a created file, before the umask
};

// Where seek() goes.
struct SeekFrom {
  enum class Origin { kStart, kCurrent, kEnd };
  static SeekFrom start(uint64_t offset) { return {Origin::kStart, static_cast<int64_t>(offset)}; }
  static SeekFrom current(int64_t offset) { return {Origin::kCurrent, offset}; }
  static SeekFrom end(int64_t offset) { return {Origin::kEnd, offset}; }
  Origin origin;
  int64_t offset;
};

namespace detail {
// A heap buffer a job fills or drains; passed back and forth to be reused.
struct Chunk {
  std::unique_ptr<std::byte[]> data;
  size_t cap = 0;
  size_t len = 0;
};
// What a File job hands back.
struct FileJobResult {
  absl::Status status;
  Chunk chunk;         // read: the bytes read; write: the buffer, to reuse
  uint64_t value = 0;  // read: bytes asked for; seek: the new offset; write_at: bytes
  struct stat st {};   // metadata
};
}  // namespace detail

// Opening never waits for a peer (fs_open.h): a FIFO or socket is refused
// with InvalidArgument (use Async<T>, which waits without a thread, or
// Unblock<T>), where Rust's and tokio's File::open block until the FIFO's
// other end opens, holding a (pool) thread for ever if nobody comes. A
// regular file, directory or device is then used in blocking mode: a
// device read (a terminal) waits in its pool job as it would in Rust.
class File {
 public:
  // Read-only.
  static BlockingJob<absl::StatusOr<File>> open(std::filesystem::path path);
  // Write-only; created if missing, truncated if not.
  static BlockingJob<absl::StatusOr<File>> create(std::filesystem::path path);
  static BlockingJob<absl::StatusOr<File>> open(std::filesystem::path path, OpenOptions options);
  // Adopts `fd` (closed by the File); `path` names it in error messages.
  static File from_fd(int fd, std::filesystem::path path);

  File() = default;  // not open
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  bool is_open() const { return fd_ >= 0; }
  const std::filesystem::path& path() const { return path_; }
  // The descriptor. Its offset may be ahead of the File's position while
  // read-ahead data is buffered.
  int native_handle() const { return fd_; }

  // Reads up to buf.size() bytes at the current position; 0 at the end.
  Task<absl::StatusOr<size_t>> read(std::span<std::byte> buf);
  Task<absl::StatusOr<size_t>> read(std::span<char> buf) { return read(std::as_writable_bytes(buf)); }
  // Accepts all of `data` (buffered; see flush) and returns its size.
  Task<absl::StatusOr<size_t>> write(std::span<const std::byte> data);
  Task<absl::StatusOr<size_t>> write(std::string_view data) {
    return write(std::as_bytes(std::span(data.data(), data.size())));
  }
  // pread/pwrite at `offset`; the position does not move.
  Task<absl::StatusOr<size_t>> read_at(uint64_t offset, std::span<std::byte> buf);
  Task<absl::StatusOr<size_t>> write_at(uint64_t offset, std::span<const std::byte> data);
  // Moves the position; returns it, from the start of the file.
  Task<absl::StatusOr<uint64_t>> seek(SeekFrom pos);
  // Waits until every write so far reached the OS (not the disk: sync_*).
  Task<absl::Status> flush();
  // flush(), then fsync(2) / fdatasync(2).
  Task<absl::Status> sync_all();
  Task<absl::Status> sync_data();
  // flush(), then ftruncate(2); the position does not move.
  Task<absl::Status> set_len(uint64_t len);
  // flush(), then fstat(2).
  Task<absl::StatusOr<Metadata>> metadata();
  // flush(), then close(2). The File is then closed whatever the result.
  Task<absl::Status> close();

 private:
  enum class Pending { kNone, kRead, kWrite, kOther };
  class OpScope;

  File(int fd, std::filesystem::path path, bool readable, bool writable);

  absl::Status check_open(const char* op) const;
  // Awaits a job in flight whose operation was cancelled (kOther), so that
  // a new job never runs beside it.
  Task<void> settle_other();
  // Awaits a read-ahead in flight; its data becomes `next_`.
  Task<void> settle_read();
  // Ends read mode: drops buffered read data, remembering how far the OS
  // offset is ahead (applied by the next job that uses the offset).
  Task<void> drop_read_side();
  // Waits for the write in flight and writes what is buffered.
  Task<absl::Status> drain_writes();
  // Hands the write buffer to a job (the caller made sure none is in flight).
  void submit_write();
  void start_read(size_t size);
  void recycle(detail::Chunk chunk);
  detail::Chunk take_spare(size_t size);
  // Runs `op(fd, path)` as the File's job after flushing writes and
  // settling reads (dropping them if `drop_reads`: the op uses the offset or
  // may change the data); the common path of seek, set_len, sync_*,
  // metadata, read_at and write_at.
  template <class Op>
  Task<detail::FileJobResult> run_settled(const char* name, bool drop_reads, Op op);
  // Hands the descriptor, the write buffer and the job in flight to a last
  // job that finishes them (the destructor's work).
  void release_to_pool() noexcept;

  int fd_ = -1;
  std::filesystem::path path_;
  bool readable_ = false;
  bool writable_ = false;

  // Read side: rbuf_[rpos_, rbuf_.len) is unread; next_ is a finished
  // read-ahead. After a short read no read-ahead starts (probably the end
  // of a file, or a pipe that had only that much); the end itself is only
  // reported once a read returned nothing.
  detail::Chunk rbuf_;
  size_t rpos_ = 0;
  detail::Chunk next_;
  size_t read_size_ = 0;  // size of the next read job (grows to kMaxChunk)
  bool short_read_ = false;  // the last read returned less than asked
  bool at_end_ = false;      // the last read returned nothing
  absl::Status read_error_;  // from a read-ahead, reported by the next read

  // Write side: wbuf_.len bytes wait to be handed to a job.
  detail::Chunk wbuf_;
  size_t write_size_ = 0;  // capacity of the next write buffer
  absl::Status write_error_;  // from a write-behind, reported by the next op

  // Unused buffer, kept for the next job.
  detail::Chunk spare_;

  // How far the descriptor's offset is ahead of the File's position
  // (read-ahead that was dropped); the next job that uses the offset
  // seeks back by this much first.
  uint64_t os_ahead_ = 0;

  // The one job in flight.
  Pending pending_kind_ = Pending::kNone;
  std::optional<BlockingJob<detail::FileJobResult>> pending_;

  bool busy_ = false;  // an operation is running (misuse check)
};

}  // namespace weft::fs

#endif  // WEFT_BLOCKING_POOL_FS_FILE_H_
