// StopSignals: SIGINT and SIGTERM delivered as an awaitable, so a server's
// shutdown runs as an ordinary task (the examples' servers use it).
//
// Requires: block() is called in main before any thread starts (weft's
// reactor and executors included): the signals are blocked in the calling
// thread and every thread inherits that mask, so they are only ever read
// from the signalfd and never kill the process.
//
// Guarantees: next() completes with the signal's number when SIGINT or
// SIGTERM arrives (one that arrived earlier is returned at once).
//
// Example:
//   int main() {
//     auto signals = StopSignals::block();  // first, before any thread
//     ...
//     auto sig = co_await signals->next();   // in the server's main task
//   }
#ifndef WEFT_EXAMPLES_STOP_SIGNALS_H_
#define WEFT_EXAMPLES_STOP_SIGNALS_H_

#include "absl/status/statusor.h"
#include "weft.h"

namespace examples {

class StopSignals {
 public:
  static absl::StatusOr<StopSignals> block();

  // The next SIGINT or SIGTERM's number.
  weft::Task<absl::StatusOr<int>> next();

 private:
  explicit StopSignals(weft::Async<weft::OwnedFd> fd) : fd_(std::move(fd)) {}
  weft::Async<weft::OwnedFd> fd_;  // a signalfd for SIGINT and SIGTERM
};

}  // namespace examples

#endif  // WEFT_EXAMPLES_STOP_SIGNALS_H_
