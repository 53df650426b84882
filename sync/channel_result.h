// What channel operations report: SendResult<T> for sends, absl::StatusOr<T>
// for receives, and the status codes both use.
//
// What it is for: weft's error model is absl::Status / absl::StatusOr
// (DESIGN.md). A receive fits it as is: the item, or a status saying why
// there is none. A send does not: absl::Status would lose the value that
// could not be sent, so sends return SendResult<T>, which carries the status
// and, when the send failed, the value back (as Rust's SendError<T> does).
//
// The codes (one meaning each, for Channel and oneshot alike):
//   OUT_OF_RANGE         recv: the channel is closed and drained; this is the
//                        end of the stream (abseil's code for reading past
//                        the end), not a fault.
//   FAILED_PRECONDITION  send: the channel was closed (or the receiver of a
//                        oneshot is gone); the value comes back.
//   UNAVAILABLE          try_send: full; try_recv: empty. Transient: retry,
//                        or use the awaiting send() / recv().
// `weft::is_closed(status)` is true for the first two.
//
// Example:
//   for (;;) {
//     absl::StatusOr<Job> job = co_await jobs.recv();
//     if (!job.ok()) break;              // closed and drained
//     run(*job);
//   }
//   weft::SendResult<Job> r = jobs.try_send(std::move(next));
//   if (!r.ok()) retry_later(std::move(r).value());   // full or closed
#ifndef WEFT_SYNC_CHANNEL_RESULT_H_
#define WEFT_SYNC_CHANNEL_RESULT_H_

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/status/status.h"

namespace weft {

// The status of a recv on a closed, drained channel.
inline absl::Status recv_closed_status() {
  return absl::OutOfRangeError("weft: the channel is closed and drained");
}
// The status of a try_recv on an empty, open channel.
inline absl::Status recv_empty_status() {
  return absl::UnavailableError("weft: the channel is empty");
}

// Whether `s` says the channel was closed (for a send or a recv).
inline bool is_closed(const absl::Status& s) noexcept {
  return absl::IsOutOfRange(s) || absl::IsFailedPrecondition(s);
}

template <class T>
class [[nodiscard]] SendResult {
 public:
  static SendResult sent() noexcept { return SendResult(Outcome::kSent, std::nullopt); }
  static SendResult closed(T unsent) { return SendResult(Outcome::kClosed, std::move(unsent)); }
  static SendResult full(T unsent) { return SendResult(Outcome::kFull, std::move(unsent)); }

  bool ok() const noexcept { return outcome_ == Outcome::kSent; }
  explicit operator bool() const noexcept { return ok(); }
  bool is_closed() const noexcept { return outcome_ == Outcome::kClosed; }
  bool is_full() const noexcept { return outcome_ == Outcome::kFull; }

  // OK, FAILED_PRECONDITION (closed) or UNAVAILABLE (full).
  absl::Status status() const {
    switch (outcome_) {
      case Outcome::kSent:
        return absl::OkStatus();
      case Outcome::kClosed:
        return absl::FailedPreconditionError("weft: send on a closed channel");
      case Outcome::kFull:
        break;
    }
    return absl::UnavailableError("weft: the channel is full");
  }

  // The value that was not sent. Throws std::logic_error after a successful
  // send (there is no value).
  T& value() & { return checked(); }
  T&& value() && { return std::move(checked()); }

 private:
  enum class Outcome : uint8_t { kSent, kClosed, kFull };
  SendResult(Outcome o, std::optional<T> unsent) : outcome_(o), unsent_(std::move(unsent)) {}

  T& checked() {
    if (!unsent_) throw std::logic_error("weft: SendResult::value() of a send that succeeded");
    return *unsent_;
  }

  Outcome outcome_;
  std::optional<T> unsent_;
};

}  // namespace weft

#endif  // WEFT_SYNC_CHANNEL_RESULT_H_
