// Signals: Unix signals delivered to tasks as a stream.
//
// What it is for: a task that waits for Ctrl-C (SIGINT), SIGTERM, SIGHUP or
// SIGCHLD with `co_await sigs.next()`, in a program that already runs
// threads, without blocking signals in main first (async-signal, tokio's
// signal module).
//
// Requires: nothing of the program's setup. Signals may be created at any
// time, from any thread. One Signals object is used by one task at a time
// (next() / try_next() are the owner's, like a read on a socket); create
// another Signals for another task.
//
// Guarantees:
//   - Not lost: a signal in the set that arrives after create() returns is
//     reported by next(), even if no task was awaiting it when it arrived.
//     A signal that arrived before create() is not.
//   - Coalescing, as POSIX does with pending signals: several arrivals of
//     the same signal between two next() calls are reported once. Different
//     signals of the set are reported separately, oldest-unreported first
//     in a round robin, so a flood of one cannot hide another.
//   - Every Signals object that contains a signal sees each arrival of it:
//     two objects for SIGINT both return from next().
//   - Coexistence: the handler weft installs chains to the handler that was
//     installed before it (sa_handler or SA_SIGINFO sa_sigaction), so a
//     library's handler keeps running. A previous SIG_DFL or SIG_IGN is not
//     acted on while a Signals listens: SIGINT then no longer terminates the
//     process; that is the point. The previous handler runs with weft's
//     signal mask (all signals blocked during the handler) and with the
//     SA_RESTART flag, not its own flags.
//   - A signal that every other thread blocks is still delivered: the
//     "weft-signals" thread keeps the signals weft handles unblocked. (A
//     program may block them in main before it starts threads, as signalfd
//     users do; then the handler runs on that thread and never interrupts a
//     worker's system calls. Under ThreadSanitizer this is what makes
//     signals from outside arrive: TSan defers a handler on a thread parked
//     in a raw futex, such as an idle block_on, until that thread wakes.)
//   - The handler is async-signal-safe: one lock-free atomic increment, one
//     write(2) of one byte to a non-blocking pipe, and the chained call;
//     errno is preserved.
//   - Dropping the last Signals that contains a signal restores the
//     disposition that was there before weft installed its handler, if weft's
//     handler is still the installed one. If someone installed a handler
//     after weft's (it may chain to weft's), weft's stays, counts arrivals
//     and keeps chaining, and nothing is restored: restoring would cut their
//     chain. A previous disposition that weft restored is SIG_DFL for most
//     programs, so Ctrl-C terminates again once nobody listens.
//   - Unsupported signals are an InvalidArgument status from create(), never
//     undefined behaviour: numbers outside 1..SIGRTMAX, SIGKILL and SIGSTOP
//     (cannot be caught), SIGSEGV, SIGBUS, SIGILL, SIGFPE (a handler that
//     returns from them loops forever on the faulting instruction), and the
//     real-time signals glibc keeps for itself (sigaction's EINVAL).
//
// Implementation (the self-pipe pattern): the handler counts the arrival in
// a per-signal atomic counter and writes a byte to a pipe. A thread named
// "weft-signals", started with the first Signals, blocks in read(2) on that
// pipe and wakes the awaiting tasks (a weft::Event). A Signals object keeps
// the counter values it has reported; next() returns a signal whose counter
// moved. Why not signalfd: a signalfd only receives signals that are blocked
// in every thread, which a library cannot arrange once threads run (the old
// examples/stop_signals.h had to ask main to block them first), and it
// consumes a signal so a second reader or another library's handler does not
// see it.
//
// Example:
//   auto sigs = weft::Signals::create({SIGINT, SIGTERM});   // StatusOr
//   if (!sigs.ok()) return sigs.status();
//   int sig = co_await sigs->next();                        // SIGINT or SIGTERM
//   std::printf("got %s\n", strsignal(sig));
// (tests/signals_test.cc; examples/connections.cc uses it for the servers.)
#ifndef WEFT_SIGNAL_SIGNALS_H_
#define WEFT_SIGNAL_SIGNALS_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "executor/task.h"

namespace weft {

class Signals {
 public:
  // Listens for every signal in `signals` (duplicates are ignored). Errors:
  // InvalidArgument for an empty set or an unsupported signal (see above;
  // nothing is installed then), or the error of pipe2/sigaction.
  static absl::StatusOr<Signals> create(std::span<const int> signals);
  static absl::StatusOr<Signals> create(std::initializer_list<int> signals) {
    return create(std::span<const int>(signals.begin(), signals.size()));
  }

  Signals(Signals&& o) noexcept;
  Signals& operator=(Signals&& o) noexcept;
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;
  // Stops listening; see "Dropping the last Signals" above.
  ~Signals();

  // The next signal of the set that arrived since it was last reported (or
  // since create()). Completes at once when one is pending. Awaiting it on a
  // moved-from Signals aborts with a message naming the mistake.
  Task<int> next();
  // Non-blocking: a pending signal, or nullopt.
  std::optional<int> try_next();

  // Whether `sig` is in the set.
  bool contains(int sig) const noexcept;

 private:
  struct Watched {
    int sig;
    uint64_t seen;  // the signal's arrival count when last reported
  };
  explicit Signals(std::vector<Watched> watched) noexcept : watched_(std::move(watched)) {}
  void release() noexcept;

  std::vector<Watched> watched_;  // sorted by signal; empty when moved from
  size_t cursor_ = 0;             // where try_next()'s round robin starts
};

// The set of one signal: `co_await weft::signal(SIGINT)->next()`.
inline absl::StatusOr<Signals> signal(int sig) { return Signals::create({sig}); }

namespace detail {
// Why `sig` cannot be listened to, or OK.
absl::Status check_signal(int sig);
// Keeps weft's handler for `sig` installed for the rest of the process and
// calls `hook` on the "weft-signals" thread after each arrival (coalesced:
// at least once after any arrival that follows this call). For the process
// reaper (process/). `hook` must not block.
absl::Status add_permanent_signal_hook(int sig, void (*hook)());
// For tests: how many times `sig` arrived while weft's handler was installed.
uint64_t signal_arrivals(int sig) noexcept;
}  // namespace detail

}  // namespace weft

#endif  // WEFT_SIGNAL_SIGNALS_H_
