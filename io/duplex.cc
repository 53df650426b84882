#include "io/duplex.h"

#include <algorithm>
#include <coroutine>
#include <cstring>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "executor/coop.h"
#include "executor/waker.h"

namespace weft {
namespace detail {

// One direction: a ring buffer, its two closed flags and the tasks waiting
// for data or room. Every field is guarded by mu_; waiters are woken after
// it is released.
class DuplexPipe {
 public:
  explicit DuplexPipe(size_t capacity) : buf_(std::max<size_t>(capacity, 1)) {}

  // Waits until the pipe can be read (data, or the writer is done) or
  // written (room, or the reader is gone); the caller then re-checks.
  struct Wait {
    DuplexPipe* pipe;
    bool for_read;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      std::lock_guard<std::mutex> l(pipe->mu_);
      if (for_read ? pipe->readable() : pipe->writable()) return false;
      (for_read ? pipe->readers_ : pipe->writers_).push_back(current_waker(h));
      return true;
    }
    void await_resume() const noexcept {}
  };

  // >0 bytes taken; 0 at the end; -1 nothing yet.
  ptrdiff_t try_read(std::span<std::byte> out) {
    std::vector<Waker> wake;
    ptrdiff_t n;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (len_ == 0) return write_closed_ ? 0 : -1;
      n = static_cast<ptrdiff_t>(std::min(out.size(), len_));
      for (ptrdiff_t done = 0; done < n;) {
        const size_t run = std::min<size_t>(n - done, buf_.size() - head_);
        std::memcpy(out.data() + done, buf_.data() + head_, run);
        head_ = (head_ + run) % buf_.size();
        len_ -= run;
        done += static_cast<ptrdiff_t>(run);
      }
      wake.swap(writers_);
    }
    for (auto& w : wake) std::move(w).wake();
    return n;
  }

  // >0 bytes put; -1 no room yet; an error if the reader is gone.
  absl::StatusOr<ptrdiff_t> try_write(std::span<const std::byte> in) {
    std::vector<Waker> wake;
    ptrdiff_t n;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (write_closed_) {
        return absl::FailedPreconditionError("weft: DuplexStream::write: shut down for writing");
      }
      if (read_closed_) {
        return absl::FailedPreconditionError("weft: DuplexStream::write: broken pipe (peer gone)");
      }
      if (len_ == buf_.size()) return -1;
      n = static_cast<ptrdiff_t>(std::min(in.size(), buf_.size() - len_));
      for (ptrdiff_t done = 0; done < n;) {
        const size_t tail = (head_ + len_) % buf_.size();
        const size_t run = std::min<size_t>(n - done, buf_.size() - tail);
        std::memcpy(buf_.data() + tail, in.data() + done, run);
        len_ += run;
        done += static_cast<ptrdiff_t>(run);
      }
      wake.swap(readers_);
    }
    for (auto& w : wake) std::move(w).wake();
    return n;
  }

  void close_write() noexcept { close(&DuplexPipe::write_closed_); }
  void close_read() noexcept { close(&DuplexPipe::read_closed_); }

 private:
  bool readable() const { return len_ > 0 || write_closed_; }
  bool writable() const { return len_ < buf_.size() || read_closed_ || write_closed_; }

  void close(bool DuplexPipe::*flag) noexcept {
    std::vector<Waker> r, w;
    {
      std::lock_guard<std::mutex> l(mu_);
      this->*flag = true;
      r.swap(readers_);
      w.swap(writers_);
    }
    for (auto& x : r) std::move(x).wake();
    for (auto& x : w) std::move(x).wake();
  }

  std::mutex mu_;
  std::vector<std::byte> buf_;
  size_t head_ = 0;  // first unread byte
  size_t len_ = 0;   // bytes buffered
  bool write_closed_ = false;  // the writing end shut down or is gone
  bool read_closed_ = false;   // the reading end is gone
  std::vector<Waker> readers_;  // wait for readable()
  std::vector<Waker> writers_;  // wait for writable()
};

}  // namespace detail

DuplexStream& DuplexStream::operator=(DuplexStream&& o) noexcept {
  if (this != &o) {
    release();
    in_ = std::move(o.in_);
    out_ = std::move(o.out_);
  }
  return *this;
}

DuplexStream::~DuplexStream() { release(); }

void DuplexStream::release() noexcept {
  if (out_) out_->close_write();
  if (in_) in_->close_read();
  out_.reset();
  in_.reset();
}

void DuplexStream::shutdown() noexcept {
  if (out_) out_->close_write();
}

Task<absl::StatusOr<size_t>> DuplexStream::read(std::span<std::byte> buf) {
  if (buf.empty()) co_return size_t{0};
  if (!in_) co_return absl::FailedPreconditionError("weft: DuplexStream::read: moved from");
  std::shared_ptr<detail::DuplexPipe> pipe = in_;  // lives while we wait
  if (!detail::coop_has_budget()) co_await detail::CoopYield{};
  for (;;) {
    const ptrdiff_t n = pipe->try_read(buf);
    if (n >= 0) {
      detail::coop_consume();
      co_return static_cast<size_t>(n);
    }
    co_await detail::DuplexPipe::Wait{pipe.get(), /*for_read=*/true};
  }
}

Task<absl::StatusOr<size_t>> DuplexStream::write(std::span<const std::byte> data) {
  if (data.empty()) co_return size_t{0};
  if (!out_) co_return absl::FailedPreconditionError("weft: DuplexStream::write: moved from");
  std::shared_ptr<detail::DuplexPipe> pipe = out_;
  if (!detail::coop_has_budget()) co_await detail::CoopYield{};
  for (;;) {
    absl::StatusOr<ptrdiff_t> n = pipe->try_write(data);
    if (!n.ok()) co_return n.status();
    if (*n >= 0) {
      detail::coop_consume();
      co_return static_cast<size_t>(*n);
    }
    co_await detail::DuplexPipe::Wait{pipe.get(), /*for_read=*/false};
  }
}

std::pair<DuplexStream, DuplexStream> duplex(size_t capacity) {
  auto a_to_b = std::make_shared<detail::DuplexPipe>(capacity);
  auto b_to_a = std::make_shared<detail::DuplexPipe>(capacity);
  return {DuplexStream(b_to_a, a_to_b), DuplexStream(a_to_b, b_to_a)};
}

}  // namespace weft
