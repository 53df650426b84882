// A TCP echo server, one task per connection on weft's global executor,
// and a client mode that checks the echo.
//
//   bazel run //examples:echo_server -- --port 7000
//   bazel run //examples:echo_server -- --connect 127.0.0.1:7000 --message hi --count 3
//
// Shows: TcpListener::bind / accept, weft::spawn(...).detach() per
// connection, TcpStream::connect, shutdown(write) as "I am done sending",
// and backing off when accept reports that the process is out of fds
// (examples::accept_loop, accept_loop.h).
// The client exits non-zero if any echo differs or the server does not
// close its side after ours.
//
// The server bounds what clients can hold (connections.h): at most
// --max_connections open (at the limit it stops accepting until one ends),
// each closed after --idle_timeout without progress. On SIGINT or SIGTERM
// (weft::Signals, connections.h) it stops accepting, gives open connections
// --drain_timeout to finish, closes the rest and exits 0.
//
// --stats prints the executor's metrics every second (stats.h).
#include <signal.h>
#include <string.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/accept_loop.h"
#include "examples/connections.h"
#include "examples/stats.h"
#include "weft.h"

ABSL_FLAG(int, port, 7000, "server: the port to listen on (0: any free port)");
ABSL_FLAG(std::string, listen, "127.0.0.1", "server: the numeric IP address to listen on");
ABSL_FLAG(std::string, connect, "",
          "client mode: the server's numeric HOST:PORT (\"[::1]:7000\" for IPv6)");
ABSL_FLAG(std::string, message, "hello from weft", "client: what to send");
ABSL_FLAG(int, count, 1, "client: how many times to send it");
ABSL_FLAG(bool, stats, false, "server: print the executor's metrics every second");

namespace {

weft::Task<void> echo(weft::TcpStream s, weft::SocketAddress peer,
                      std::chrono::nanoseconds idle) {
  char buf[16 * 1024];
  size_t total = 0;
  for (;;) {
    auto n = co_await examples::read_by(s, buf, sizeof buf, examples::idle_deadline(idle));
    if (!n.ok()) {
      std::fprintf(stderr, "%s: %s\n", peer.to_string().c_str(),
                   absl::IsDeadlineExceeded(n.status()) ? "idle for --idle_timeout, closing"
                                                        : n.status().ToString().c_str());
      co_return;
    }
    if (*n == 0) break;  // the client is done sending
    absl::Status st = co_await examples::write_all_by(s, buf, *n, examples::idle_deadline(idle));
    if (!st.ok()) {
      std::fprintf(stderr, "%s: %s\n", peer.to_string().c_str(),
                   absl::IsDeadlineExceeded(st) ? "not reading for --idle_timeout, closing"
                                                : st.ToString().c_str());
      co_return;
    }
    total += *n;
  }
  std::printf("%s: echoed %zu bytes\n", peer.to_string().c_str(), total);
  std::fflush(stdout);
}  // the task ends: its frame, and `s` with it, is freed (the peer reads end of stream)

// Serves until SIGINT or SIGTERM, then drains; returns the exit status.
weft::Task<int> serve(weft::TcpListener listener, weft::Signals signals,
                      examples::ServerLimits limits) {
  examples::Connections conns(limits.max_connections);
  auto acceptor = weft::spawn(examples::accept_loop(
      listener, conns, [idle = limits.idle_timeout](weft::TcpStream s, weft::SocketAddress peer) {
        return echo(std::move(s), peer, idle);
      }));
  co_await examples::stop_on_signal(signals, acceptor, conns, limits.drain_timeout);
  std::printf("bye\n");
  co_return 0;
}

weft::Task<int> client(weft::SocketAddress server, std::string message, int count) {
  auto s = co_await weft::TcpStream::connect(server);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    co_return 1;
  }
  std::string back(message.size(), '\0');
  for (int i = 0; i < count; ++i) {
    absl::Status st = co_await s->write_all(message.data(), message.size());
    if (st.ok()) st = co_await s->read_exact(back.data(), back.size());
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      co_return 1;
    }
    if (back != message) {
      std::fprintf(stderr, "echo %d differs: sent \"%s\", got \"%s\"\n", i, message.c_str(),
                   back.c_str());
      co_return 1;
    }
    std::printf("echo %d: %s\n", i, back.c_str());
  }
  // Done sending; the server answers with end of stream once it has seen ours.
  absl::Status st = s->shutdown(weft::Shutdown::kWrite);
  char extra;
  auto eof = co_await s->read(&extra, 1);
  if (!st.ok() || !eof.ok() || *eof != 0) {
    std::fprintf(stderr, "the server did not close cleanly: %s / %s\n", st.ToString().c_str(),
                 eof.ok() ? "unexpected bytes" : eof.status().ToString().c_str());
    co_return 1;
  }
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string target = absl::GetFlag(FLAGS_connect);
  if (!target.empty()) {
    // Numeric only: name resolution will run on the blocking pool, which
    // is not here yet.
    auto server = weft::SocketAddress::parse(target);
    if (!server.ok()) {
      std::fprintf(stderr, "--connect: %s\n", server.status().ToString().c_str());
      return 2;
    }
    return weft::block_on(
        client(*server, absl::GetFlag(FLAGS_message), absl::GetFlag(FLAGS_count)));
  }
  // SIGINT / SIGTERM from here on become a stop request (connections.h).
  int startup_failed = 0;
  std::optional<examples::ServerStartup> start = examples::server_startup(&startup_failed);
  if (!start) return startup_failed;
  weft::Signals& signals = start->signals;
  const examples::ServerLimits& limits = start->limits;
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "--port: %d is not a port\n", port);
    return 2;
  }
  auto addr =
      weft::SocketAddress::from_ip(absl::GetFlag(FLAGS_listen), static_cast<uint16_t>(port));
  if (!addr.ok()) {
    std::fprintf(stderr, "--listen: %s\n", addr.status().ToString().c_str());
    return 2;
  }
  auto listener = weft::TcpListener::bind(*addr);  // synchronous: bind errors show up here
  if (!listener.ok()) {
    std::fprintf(stderr, "%s\n", listener.status().ToString().c_str());
    return 1;
  }
  std::printf("echo server listening on %s\n",
              listener->local_address().value().to_string().c_str());
  std::fflush(stdout);
  if (absl::GetFlag(FLAGS_stats)) {
    weft::spawn(examples::stats_every_second("global", [] {
      return std::vector<weft::ExecutorMetrics>{weft::global_executor().metrics()};
    })).detach();
  }
  // The accept loop and the connections run on the global executor; this
  // thread waits for a stop signal.
  return weft::block_on(serve(*std::move(listener), std::move(signals), limits));
}
