#include "examples/stop_signals.h"

#include <pthread.h>
#include <signal.h>

namespace examples {

absl::StatusOr<StopSignals> StopSignals::listen() {
  // Optional with weft::Signals: blocked in this thread (main, before the
  // servers start their threads, which inherit the mask), the signals are
  // handled on weft's "weft-signals" thread and never interrupt a worker.
  // It is also what lets a ThreadSanitizer build see them (signals.h).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto s = weft::Signals::create({SIGINT, SIGTERM});
  if (!s.ok()) return s.status();
  return StopSignals(*std::move(s));
}

weft::Task<absl::StatusOr<int>> StopSignals::next() { co_return co_await signals_.next(); }

}  // namespace examples
