// StopSignals: SIGINT and SIGTERM as an awaitable, so a server's shutdown
// runs as an ordinary task (the examples' servers use it).
//
// A thin adapter over weft::Signals (signal/signals.h), kept because
// connections.h's await_stop_signal / stop_on_signal take it. Unlike the
// signalfd it replaced, it needs nothing of main: create it at any time,
// threads or not. listen() also blocks the two signals in the calling
// thread, so that threads started afterwards leave them to weft's signal
// thread (optional; see stop_signals.cc).
//
// Guarantees: those of weft::Signals. next() completes with the signal's
// number when SIGINT or SIGTERM arrives after listen() (one that arrived
// before the await is returned at once). While a StopSignals exists, the
// signals do not terminate the process; once it is destroyed they do again.
//
// Example:
//   auto signals = StopSignals::listen();
//   ...
//   auto sig = co_await signals->next();   // in the server's main task
#ifndef WEFT_EXAMPLES_STOP_SIGNALS_H_
#define WEFT_EXAMPLES_STOP_SIGNALS_H_

#include "absl/status/statusor.h"
#include "weft.h"

namespace examples {

class StopSignals {
 public:
  static absl::StatusOr<StopSignals> listen();

  // The next SIGINT or SIGTERM's number. (StatusOr for connections.h's
  // callers; weft::Signals::next() itself cannot fail.)
  weft::Task<absl::StatusOr<int>> next();

 private:
  explicit StopSignals(weft::Signals signals) : signals_(std::move(signals)) {}
  weft::Signals signals_;  // SIGINT and SIGTERM
};

}  // namespace examples

#endif  // WEFT_EXAMPLES_STOP_SIGNALS_H_
