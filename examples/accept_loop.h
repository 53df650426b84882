// accept_loop: the example servers' accept loop, written once (echo_server,
// chat, and both modes of http_hello run it).
//
// What it is for: every server accepts the same way; only what it does
// with a connection differs. The loop takes a connection slot first (at
// --max_connections it stops accepting until a connection ends, so clients
// wait in the kernel's listen backlog: connections.h), then accepts, and
// spawns `handler(stream, peer)` wrapped in Connections::track, detached.
//
// Requires: `listener` and `conns` outlive the loop's task. `spawn(task)`
// starts a Task<void> beside the loop and returns its JoinHandle: the
// global executor (the overload without `spawn`), an Executor's spawn, or
// LocalPool::spawn_local for a thread-per-core shard. `handler` is called
// on the loop's thread, once per connection, in accept order, and returns
// the connection's Task<void> (not started yet); it may keep state (chat
// numbers its clients), since the loop owns it.
//
// Guarantees:
//   - An accept error never ends the loop but one: each is printed on
//     stderr; out of fds (EMFILE / ENFILE: ResourceExhausted) the loop
//     pauses kOutOfFdsBackoff before it tries again, so it does not spin
//     while connections finish and free some; the connection stays queued
//     in the backlog meanwhile. Other errors (ECONNABORTED...) are retried
//     at once.
//   - A closed listener (accept gives Cancelled) ends the loop: its task
//     completes instead of spinning on an fd that will never accept again.
//   - Stopping it: cancel its JoinHandle (examples::stop_on_signal does,
//     then drains `conns`); the slot it holds while waiting is released.
//
// Example (echo_server.cc):
//   auto acceptor = weft::spawn(examples::accept_loop(listener, conns,
//       [idle](weft::TcpStream s, weft::SocketAddress peer) {
//         return echo(std::move(s), peer, idle);
//       }));
//   co_await examples::stop_on_signal(signals, acceptor, conns, drain_timeout);
#ifndef WEFT_EXAMPLES_ACCEPT_LOOP_H_
#define WEFT_EXAMPLES_ACCEPT_LOOP_H_

#include <chrono>
#include <concepts>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "examples/connections.h"
#include "weft.h"

namespace examples {

// How long the accept loop pauses when the process is out of fds: long
// enough not to spin (one failed accept4 per pause), short enough that a
// freed fd is used within a blink.
inline constexpr auto kOutOfFdsBackoff = std::chrono::milliseconds(100);

template <class Spawn, class Handler>
  requires std::invocable<Handler&, weft::TcpStream, weft::SocketAddress>
weft::Task<void> accept_loop(Spawn spawn, weft::TcpListener& listener, Connections& conns,
                             Handler handler) {
  for (;;) {
    // A slot first: at the limit, stop accepting until a connection ends.
    weft::SemaphoreGuard slot = co_await conns.slot();
    auto conn = co_await listener.accept();
    if (!conn.ok()) {
      std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
      if (absl::IsCancelled(conn.status())) co_return;  // the listener closed
      if (absl::IsResourceExhausted(conn.status())) co_await weft::sleep_for(kOutOfFdsBackoff);
      continue;
    }
    spawn(conns.track(std::move(slot), handler(std::move(conn->first), conn->second))).detach();
  }
}

// The same, with the connections on weft's global executor (weft::spawn).
template <class Handler>
  requires std::invocable<Handler&, weft::TcpStream, weft::SocketAddress>
weft::Task<void> accept_loop(weft::TcpListener& listener, Connections& conns, Handler handler) {
  return accept_loop([](weft::Task<void> t) { return weft::spawn(std::move(t)); }, listener,
                     conns, std::move(handler));
}

}  // namespace examples

#endif  // WEFT_EXAMPLES_ACCEPT_LOOP_H_
