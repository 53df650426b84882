// Sender<T> / Receiver<T>: the two ends of a Channel, as handles.
//
// What it is for: a producer and a consumer that should not share one
// object, and a channel that ends by itself: `auto [tx, rx] =
// weft::channel<Job>(16);` gives each side its handle. Both handles can be
// copied (async-channel's model: many producers, many consumers). When the
// last Sender goes, the channel closes: receivers get what is buffered, then
// OUT_OF_RANGE. When the last Receiver goes, it closes too: sends fail with
// FAILED_PRECONDITION and hand the value back.
//
// Requires: as Channel (channel.h): T move-constructible, capacity >= 1
// for a bounded channel. A handle must outlive the calls made on it; tasks
// still waiting when the last handle goes wake up with "closed".
//
// A task that takes a Sender by value should move it into a local: a
// finished task's parameters live until its JoinHandle goes
// (executor/join_handle.h), and a Sender kept there keeps the channel open.
//
// Guarantees: everything Channel guarantees (every item received exactly
// once or still buffered, FIFO, cancel-safe receives, ...), since the
// handles are a thin layer over the same ChannelCore. Copying or dropping
// handles is thread-safe; a handle object itself is used by one thread at
// a time, like any value.
//
// Memory ordering: the handle counts are one atomic word, changed with
// acq_rel read-modify-writes: the drop that closes (or frees) the channel
// sees every earlier drop, and a send happens-before the receive that
// returns its value (the channel's mutex).
//
// Example:
//   auto [tx, rx] = weft::channel<int>(16);
//   ex.spawn(produce(std::move(tx)));   // its last Sender closes the channel
//   while (true) {
//     absl::StatusOr<int> v = co_await rx.recv();
//     if (!v.ok()) break;               // all senders gone, drained
//   }
#ifndef WEFT_SYNC_SENDER_RECEIVER_H_
#define WEFT_SYNC_SENDER_RECEIVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "absl/status/statusor.h"
#include "sync/channel.h"
#include "sync/channel_result.h"

namespace weft {

namespace detail {

// What the handles of one channel share: the core and how many of each
// handle exist. Freed by the drop that takes both counts to zero.
template <class T>
class ChannelEnds {
 public:
  static constexpr uint64_t kSender = 1;
  static constexpr uint64_t kReceiver = uint64_t{1} << 32;
  static constexpr uint64_t kSenderMask = kReceiver - 1;

  explicit ChannelEnds(size_t capacity) : core_(new ChannelCore<T>(capacity)) {}
  ChannelEnds(const ChannelEnds&) = delete;
  ChannelEnds& operator=(const ChannelEnds&) = delete;

  ChannelCore<T>* core() const noexcept { return core_; }
  ~ChannelEnds() = default;

  void add(uint64_t one) noexcept {
    // relaxed: the caller holds a handle of this kind already (a copy), so
    // no drop can race to zero; the count is all that changes.
    counts_.fetch_add(one, std::memory_order_relaxed);
  }
  // Drops one handle of kind `one`. The last of a kind closes the channel;
  // the last of all drops the core's reference and frees this object.
  void drop(uint64_t one) noexcept {
    // Our own reference on the core for this drop: once our count is
    // gone, another thread's last drop may free `this` and the ends' core
    // reference at any moment, and we may still have to close.
    ChannelCore<T>* const core = core_;
    core->ref();
    // acq_rel: pairs with the other handles' drops, so the one that sees
    // zero acts after all of them.
    const uint64_t before = counts_.fetch_sub(one, std::memory_order_acq_rel);
    const uint64_t after = before - one;
    if (after == 0) {
      delete this;
      core->close_and_release();
    } else if (one == kSender ? (after & kSenderMask) == 0 : (after & ~kSenderMask) == 0) {
      core->close();  // the last of its kind
    }
    core->release_notified();  // our reference; may free the core
  }

 private:
  ChannelCore<T>* const core_;
  // Senders in the low 32 bits, receivers in the high 32: one word, so the
  // last drop of all is seen by exactly one thread.
  std::atomic<uint64_t> counts_{kSender + kReceiver};
};

// What Sender and Receiver share: one counted reference to the channel's
// ends, of kind `kKind` (ChannelEnds::kSender or kReceiver). Copying adds a
// handle of that kind, moving transfers it, destroying drops it (the last of
// a kind closes the channel: ChannelEnds::drop). A moved-from handle holds
// nothing; any call on it but destruction or assignment throws
// std::logic_error.
template <class T, uint64_t kKind>
class ChannelHandle {
 public:
  ChannelHandle(const ChannelHandle& o) noexcept : ends_(o.ends_) {
    if (ends_) ends_->add(kKind);
  }
  ChannelHandle(ChannelHandle&& o) noexcept : ends_(std::exchange(o.ends_, nullptr)) {}
  ChannelHandle& operator=(ChannelHandle o) noexcept {
    std::swap(ends_, o.ends_);
    return *this;
  }
  ~ChannelHandle() {
    if (ends_) ends_->drop(kKind);
  }

  // Closes the channel for everyone; false if it was closed already.
  bool close() { return core()->close(); }
  bool is_closed() const { return core()->is_closed(); }
  // Items buffered right now (a snapshot).
  size_t size() const { return core()->size(); }
  // Channel<T>::kUnbounded for an unbounded channel.
  size_t capacity() const { return core()->capacity(); }

 protected:
  using Ends = ChannelEnds<T>;
  explicit ChannelHandle(Ends* ends) noexcept : ends_(ends) {}
  ChannelCore<T>* core() const {
    if (!ends_) {
      throw std::logic_error(kKind == Ends::kSender ? "weft: use of a moved-from weft::Sender"
                                                    : "weft: use of a moved-from weft::Receiver");
    }
    return ends_->core();
  }

 private:
  Ends* ends_;
};

}  // namespace detail

template <class T>
class Sender : public detail::ChannelHandle<T, detail::ChannelEnds<T>::kSender> {
  using Handle = detail::ChannelHandle<T, detail::ChannelEnds<T>::kSender>;

 public:
  // As Channel::send / try_send: waits while full; the value comes back if
  // the channel is closed (all receivers gone, or close()).
  typename Channel<T>::SendAwaiter send(T value) {
    return typename Channel<T>::SendAwaiter(this->core(), std::move(value));
  }
  SendResult<T> try_send(T value) { return this->core()->try_send(std::move(value)); }
  // close(), is_closed(), size(), capacity(): detail::ChannelHandle.

  // For channel() / unbounded_channel(): takes over one sender count of
  // `ends` (detail: not for users, as Channel<T>::SendAwaiter's).
  explicit Sender(detail::ChannelEnds<T>* ends) noexcept : Handle(ends) {}
};

template <class T>
class Receiver : public detail::ChannelHandle<T, detail::ChannelEnds<T>::kReceiver> {
  using Handle = detail::ChannelHandle<T, detail::ChannelEnds<T>::kReceiver>;

 public:
  // As Channel::recv / try_recv: the item, or OUT_OF_RANGE once every
  // sender is gone (or close()) and the buffer is drained. Cancel-safe.
  typename Channel<T>::RecvAwaiter recv() {
    return typename Channel<T>::RecvAwaiter(this->core());
  }
  absl::StatusOr<T> try_recv() { return this->core()->try_recv(); }
  // close(), is_closed(), size(), capacity(): detail::ChannelHandle.

  // For channel() / unbounded_channel(): takes over one receiver count of
  // `ends` (detail: not for users, as Channel<T>::SendAwaiter's).
  explicit Receiver(detail::ChannelEnds<T>* ends) noexcept : Handle(ends) {}
};

// A bounded channel holding at most `capacity` (>= 1) items, as handles.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument(
        "weft: a bounded channel needs capacity >= 1 (weft::unbounded_channel<T>() has none)");
  }
  auto* ends = new detail::ChannelEnds<T>(capacity);  // one sender, one receiver
  return {Sender<T>(ends), Receiver<T>(ends)};
}

// An unbounded channel: send never waits.
template <class T>
std::pair<Sender<T>, Receiver<T>> unbounded_channel() {
  auto* ends = new detail::ChannelEnds<T>(Channel<T>::kUnbounded);
  return {Sender<T>(ends), Receiver<T>(ends)};
}

}  // namespace weft

#endif  // WEFT_SYNC_SENDER_RECEIVER_H_
