#include "examples/stop_signals.h"

#include <signal.h>

namespace examples {

absl::StatusOr<StopSignals> StopSignals::listen() {
  auto s = weft::Signals::create({SIGINT, SIGTERM});
  if (!s.ok()) return s.status();
  return StopSignals(*std::move(s));
}

weft::Task<absl::StatusOr<int>> StopSignals::next() { co_return co_await signals_.next(); }

}  // namespace examples
