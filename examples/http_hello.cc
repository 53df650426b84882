// The minimal keep-alive HTTP/1.1 server of BENCH.md's http_hello workload:
// every request gets "Hello, World!".
//
//   bazel run -c opt //examples:http_hello -- --port 8080 --threads 2
//   wrk -t1 -c50 -d10s --latency http://127.0.0.1:8080/
//
// It serves until SIGINT or SIGTERM, then exits cleanly (status 0): the
// signals are blocked in every thread and read from a signalfd wrapped in
// Async (stop_signals.h), so the shutdown runs as an ordinary task: stop
// accepting, give open connections --drain_timeout, close the rest.
//
// Limits (connections.h): at most --max_connections open (at the limit it
// stops accepting until one ends); a connection is closed when a request
// does not arrive in full within --idle_timeout of the previous response
// (or of the accept), or a response is not taken within --idle_timeout.
//
// Threads: an Executor with --threads N workers: this thread and N - 1
// more, each calling ex.run(...). One task per connection.
//
// HTTP: just enough to find request boundaries. A request ends after its
// header block plus Content-Length bytes of body; pipelined requests are
// answered in order, all the responses for what one read brought in going
// out in one write. "Connection: close" (or HTTP/1.0 without keep-alive)
// closes after the response. Chunked request bodies and oversized headers
// are answered with an error and the connection is closed.
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/connections.h"
#include "examples/http_framing.h"
#include "examples/stop_signals.h"
#include "weft.h"

ABSL_FLAG(int, port, 8080, "the port to listen on (0: any free port)");
ABSL_FLAG(std::string, listen, "127.0.0.1", "the numeric IP address to listen on");
ABSL_FLAG(int, threads, 1, "worker threads running the Executor (this one included)");

namespace {

using namespace http_framing;

// How long the accept loop pauses when the process is out of fds.
constexpr auto kOutOfFdsBackoff = std::chrono::milliseconds(100);

// --- one connection ------------------------------------------------------

// The connection's work; `idle` moves its deadline (IdleWatch).
weft::Task<void> serve_requests(weft::TcpStream& s, examples::IdleWatch& idle) {
  RequestBuffer in;  // in the task's frame
  std::string out;
  for (;;) {
    // Answer every complete request in the buffer, then write once.
    const bool close_after = in.answer(out);
    if (!out.empty()) {
      idle.restart();  // the response gets --idle_timeout to be taken
      absl::Status st = co_await s.write_all(out.data(), out.size());
      out.clear();
      if (!st.ok()) co_return;
      idle.restart();  // the next request's turn
    }
    if (close_after) co_return;
    if (!in.make_room()) {  // one request head fills the whole buffer
      idle.restart();
      (void)co_await s.write_all(kHeadTooLarge.data(), kHeadTooLarge.size());
      co_return;
    }
    auto n = co_await s.read(in.read_at(), in.read_room());
    // An error, the client closed, or the watchdog cut the connection past
    // its deadline (it shuts the socket down: the read sees end of stream).
    if (!n.ok() || *n == 0 || idle.expired()) co_return;
    in.did_read(*n);
  }
}

// Each request (and the wait for it) gets --idle_timeout in all, counted
// from the previous response: a client that trickles its header in byte by
// byte cannot hold the connection past it. The deadline is lazy (IdleWatch):
// moving it per request arms no timer.
weft::Task<void> serve_http(weft::Executor* ex, weft::TcpStream s,
                            std::chrono::nanoseconds idle) {
  (void)s.set_nodelay(true);  // responses are small: send each batch at once
  examples::IdleWatch watch(*ex, s, idle);
  co_await serve_requests(s, watch);
  co_await watch.stop();
}

weft::Task<void> accept_loop(weft::Executor* ex, weft::TcpListener* listener,
                             examples::Connections* conns, std::chrono::nanoseconds idle) {
  for (;;) {
    // A slot first: at --max_connections, stop accepting until one ends.
    weft::SemaphoreGuard slot = co_await conns->slot();
    auto conn = co_await listener->accept();
    if (!conn.ok()) {
      std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
      if (absl::IsCancelled(conn.status())) co_return;  // the listener closed
      if (absl::IsResourceExhausted(conn.status())) co_await weft::sleep_for(kOutOfFdsBackoff);
      continue;
    }
    ex->spawn(conns->track(std::move(slot), serve_http(ex, std::move(conn->first), idle))).detach();
  }
}

// Serves until SIGINT or SIGTERM, then drains; returns the exit status.
weft::Task<int> serve_until_signal(weft::Executor* ex, weft::TcpListener* listener,
                                   examples::StopSignals* signals, examples::ServerLimits limits) {
  examples::Connections conns(limits.max_connections);
  auto acceptor = ex->spawn(accept_loop(ex, listener, &conns, limits.idle_timeout));
  co_return co_await examples::stop_on_signal(*signals, acceptor, conns, limits.drain_timeout);
}

// The extra worker threads' main task: leaves ex.run() once `stop` is done.
weft::Task<void> wait_for(weft::WaitGroup* stop) { co_await stop->wait(); }

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int port = absl::GetFlag(FLAGS_port);
  if (threads < 1 || port < 0 || port > 65535) {
    std::fprintf(stderr, "--threads must be >= 1 and --port 0..65535\n");
    return 2;
  }

  // Before any thread starts (weft's included): see stop_signals.h.
  auto signals = examples::StopSignals::block();
  if (!signals.ok()) {
    std::fprintf(stderr, "%s\n", signals.status().ToString().c_str());
    return 1;
  }
  auto limits = examples::server_limits_from_flags();
  if (!limits.ok()) {
    std::fprintf(stderr, "%s\n", std::string(limits.status().message()).c_str());
    return 2;
  }

  auto addr =
      weft::SocketAddress::from_ip(absl::GetFlag(FLAGS_listen), static_cast<uint16_t>(port));
  if (!addr.ok()) {
    std::fprintf(stderr, "--listen: %s\n", addr.status().ToString().c_str());
    return 2;
  }
  auto listener = weft::TcpListener::bind(*addr);
  if (!listener.ok()) {
    std::fprintf(stderr, "%s\n", listener.status().ToString().c_str());
    return 1;
  }
  std::printf("http_hello listening on http://%s/ with %d thread%s\n",
              listener->local_address().value().to_string().c_str(), threads,
              threads == 1 ? "" : "s");
  std::fflush(stdout);

  int rc;
  {
    // Declared after the listener and signalfd: destroyed first, with every
    // task it still holds (open connections), once no thread is inside run().
    weft::WaitGroup stop;  // a one-shot latch: count 1 until the server is done
    stop.add(1);
    weft::Executor ex;
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) workers.emplace_back([&] { ex.run(wait_for(&stop)); });
    rc = ex.run(serve_until_signal(&ex, &*listener, &*signals, *limits));
    stop.done();
    for (auto& t : workers) t.join();
  }
  std::printf("bye\n");
  return rc;
}
