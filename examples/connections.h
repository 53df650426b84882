// Connections: what the examples' servers use to bound their connections:
// how many may be open at once, how long one may sit idle, and how they end
// when the server shuts down.
//
// - A limit (--max_connections): the accept loop takes a slot before it
//   accepts (`co_await conns.slot()`), so at the limit the server stops
//   accepting until a connection ends; new clients wait in the kernel's
//   listen backlog instead of being accepted and dropped (tokio's examples
//   do the same with a Semaphore). Every accepted connection then has its
//   fd, so the fd limit is not the thing that turns clients away.
// - An idle limit (--idle_timeout): read_by / write_all_by fail with
//   DeadlineExceeded at a deadline the server sets: echo_server allows
//   --idle_timeout per read or write; http_hello allows it for each whole
//   request (so a client trickling a header byte by byte is cut off too,
//   as nginx's client_header_timeout does).
// - Shutdown: stop_signals() / stop_on_signal() turn SIGINT and SIGTERM
//   into a task's wake-up (weft::Signals); drain(grace) waits for the open connections to finish, at most
//   `grace`, then cancels the rest (their frames are destroyed, closing
//   their sockets) and waits for that.
//
// Requires: the Connections outlives drain() (called once, after the accept
// loop has stopped); connections are started only through track().
//
// Example (echo_server.cc, http_hello.cc, chat.cc):
//   examples::Connections conns(max_connections);
//   for (;;) {
//     weft::SemaphoreGuard slot = co_await conns.slot();
//     auto conn = co_await listener.accept();
//     ...
//     weft::spawn(conns.track(std::move(slot), serve(std::move(conn->first)))).detach();
//   }
//   // on SIGTERM: cancel the accept loop, then
//   co_await conns.drain(grace);
#ifndef WEFT_EXAMPLES_CONNECTIONS_H_
#define WEFT_EXAMPLES_CONNECTIONS_H_

#include <chrono>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weft.h"

namespace examples {

// The limits, from the flags every example server shares (defined in
// connections.cc): --max_connections, --idle_timeout, --drain_timeout.
// --idle_timeout=inf: no limit, and no timer armed per read or write (what a
// benchmark that wants the bare I/O path passes).
inline constexpr std::chrono::nanoseconds kNoIdleLimit = std::chrono::nanoseconds::max();

struct ServerLimits {
  size_t max_connections;
  std::chrono::nanoseconds idle_timeout;   // kNoIdleLimit: none
  std::chrono::nanoseconds drain_timeout;
};

// The flags' values, or InvalidArgument naming the flag that is out of range.
absl::StatusOr<ServerLimits> server_limits_from_flags();

class Connections {
 public:
  explicit Connections(size_t max_open) : slots_(max_open) {}

  // A free slot; waits while max_open connections are open.
  weft::Semaphore::AcquireAwaiter slot() { return slots_.acquire(); }

  // The task to spawn for one connection: runs `conn` holding `slot`, and
  // counts it open until it ends (or drain() cancels it).
  weft::Task<void> track(weft::SemaphoreGuard slot, weft::Task<void> conn);

  // Waits until every connection has ended, cancelling what is still open
  // after `grace`.
  weft::Task<void> drain(std::chrono::nanoseconds grace);

 private:
  weft::Task<void> run(weft::SemaphoreGuard slot, weft::Task<void> conn);

  weft::Semaphore slots_;
  weft::WaitGroup open_;      // one count per tracked connection
  std::stop_source cancel_;   // drain() cancels what outlives the grace period
};

// SIGINT and SIGTERM as a weft::Signals (signal/signals.h): from here on
// they no longer terminate the process; the server's shutdown task awaits
// them. Also blocks the two signals in the calling thread, so that threads
// started afterwards (call it from main, first) leave them to weft's signal
// thread: optional for weft::Signals, but it keeps the signals from
// interrupting workers' system calls, and it is what lets a
// ThreadSanitizer build see signals sent from outside (signals.h).
absl::StatusOr<weft::Signals> stop_signals();

// Every server's start-up, first thing in main after the flags are parsed:
// stop_signals() then server_limits_from_flags(). On failure it prints why
// on stderr and returns nullopt with *exit_code set: 1 when the signals
// cannot be set up, 2 for a bad flag.
struct ServerStartup {
  weft::Signals signals;
  ServerLimits limits;
};
std::optional<ServerStartup> server_startup(int* exit_code);

// Waits for SIGINT or SIGTERM and says so: "got <signal>, shutting down" on
// stdout.
weft::Task<void> await_stop_signal(weft::Signals& signals);

// The example servers' shutdown: waits for SIGINT or SIGTERM, cancels
// `acceptor` (no new connections), then drains `conns` for `drain_timeout`.
weft::Task<void> stop_on_signal(weft::Signals& signals, weft::JoinHandle<void>& acceptor,
                                Connections& conns, std::chrono::nanoseconds drain_timeout);

// The deadline `idle` from now (saturating); time_point::max() for
// kNoIdleLimit.
weft::Clock::time_point idle_deadline(std::chrono::nanoseconds idle);

// Reads like s.read(), failing with DeadlineExceeded when nothing arrives by
// `deadline` (the read is cancelled; no byte is lost). time_point::max():
// a plain read, no timer armed.
weft::Task<absl::StatusOr<size_t>> read_by(weft::TcpStream& s, void* buf, size_t len,
                                           weft::Clock::time_point deadline);

// s.write_all(), failing with DeadlineExceeded when it has not finished by
// `deadline` (a peer that does not read).
weft::Task<absl::Status> write_all_by(weft::TcpStream& s, const void* buf, size_t len,
                                      weft::Clock::time_point deadline);

// One connection's idle limit, for servers that move the deadline on every
// request (http_hello): a lazy deadline instead of a timer per read.
//
// Arming a timer per request and cancelling it when the request arrives
// cost http_hello 20-30% of its requests per second (issue #10), though the
// timer almost never fires. Here moving the deadline is a clock read and a
// relaxed store; one watchdog task per connection sleeps until the deadline
// it last read, and when it wakes, sleeps again until the current one if
// the connection moved it meanwhile. Only when the current deadline has
// passed does it act: it marks the watch expired and shuts the socket down
// both ways, so a read waiting on it returns end of stream and a write
// fails, as timeout_at's cancellation would have ended them. The timeout is
// not weakened: the connection is cut at most one timer tick (~1 ms) after
// the deadline, as with a timer per read.
//
// Requires: `ex` runs the watchdog; call stop() (and await it) before the
// stream is destroyed. The watchdog works on its own dup of the fd, so a
// connection task destroyed without stop() (drain() cancelling it) leaves
// nothing dangling: the watchdog is cancelled with its JoinHandle and
// closes the dup.
class IdleWatch {
 public:
  // Starts the watchdog with the deadline `idle` from now; kNoIdleLimit:
  // no watchdog, nothing armed.
  // `spawn(task)` starts the watchdog and returns its JoinHandle (e.g. on
  // an Executor, or LocalPool::spawn_local).
  template <class Spawn>
  IdleWatch(Spawn&& spawn, const weft::TcpStream& s, std::chrono::nanoseconds idle)
      : idle_(idle) {
    if (std::optional<weft::Task<void>> dog = start(s)) dog_.emplace(spawn(*std::move(dog)));
  }
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;

  // The deadline becomes `idle` from now.
  void restart() noexcept;
  // Whether the watchdog cut the connection (reads then see end of stream).
  bool expired() const noexcept;
  // Ends the watchdog and waits until it is gone.
  weft::Task<void> stop();

 private:
  struct State {
    // Written by the connection task (restart), read by the watchdog:
    // relaxed both ways, since the watchdog only compares it with the clock
    // and a late-seen restart just makes it sleep once more.
    std::atomic<int64_t> deadline_ns{0};
    // Set by the watchdog before it shuts the socket down (release); read
    // by the connection after its read ended (acquire).
    std::atomic<bool> expired{false};
  };
  // The watchdog to spawn, or nothing (no limit, or no dup of the fd).
  std::optional<weft::Task<void>> start(const weft::TcpStream& s);
  static weft::Task<void> watchdog(std::shared_ptr<State> state, int fd);

  std::chrono::nanoseconds idle_;
  std::shared_ptr<State> state_;
  std::optional<weft::JoinHandle<void>> dog_;
};

}  // namespace examples

#endif  // WEFT_EXAMPLES_CONNECTIONS_H_
