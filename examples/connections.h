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
// - Shutdown: drain(grace) waits for the open connections to finish, at most
//   `grace`, then cancels the rest (their frames are destroyed, closing
//   their sockets) and waits for that.
//
// Requires: the Connections outlives drain() (called once, after the accept
// loop has stopped); connections are started only through track().
//
// Example (echo_server.cc, http_hello.cc):
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
#include <stop_token>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "examples/stop_signals.h"
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

// The example servers' shutdown: waits for SIGINT or SIGTERM, cancels
// `acceptor` (no new connections), then drains `conns` for `drain_timeout`.
// Returns the exit status: 0, or 1 when the signal could not be read (then
// open connections get no grace).
weft::Task<int> stop_on_signal(StopSignals& signals, weft::JoinHandle<void>& acceptor,
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

}  // namespace examples

#endif  // WEFT_EXAMPLES_CONNECTIONS_H_
