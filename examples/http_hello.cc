// The minimal keep-alive HTTP/1.1 server of BENCH.md's http_hello workload:
// every request gets "Hello, World!".
//
//   bazel run -c opt //examples:http_hello -- --port 8080 --threads 2
//   wrk -t1 -c50 -d10s --latency http://127.0.0.1:8080/
//
// It serves until SIGINT or SIGTERM, then exits cleanly (status 0): the
// signals arrive through weft::Signals (connections.h), so the shutdown
// runs as an ordinary task: stop accepting, give open connections
// --drain_timeout, close the rest.
//
// Limits (connections.h): at most --max_connections open (at the limit it
// stops accepting until one ends); a connection is closed when a request
// does not arrive in full within --idle_timeout of the previous response
// (or of the accept), or a response is not taken within --idle_timeout.
//
// Threads (--mode):
//   shared  an Executor with --threads N workers: this thread and N - 1
//           more, each calling ex.run(...); one listener. One task per
//           connection, on any worker (work stealing).
//   tpc     thread per core: a LocalPool of N workers, each with its own
//           SO_REUSEPORT listener on the same port (the kernel spreads the
//           connections), its own connection limit (--max_connections / N)
//           and its connections' tasks, which never leave it.
// --stats prints the executor's metrics every second (stats.h).
//
// HTTP: just enough to find request boundaries (http_framing.h), read
// through a weft::BufReader (io/buf_reader.h). A request ends after its
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
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/accept_loop.h"
#include "examples/connections.h"
#include "examples/http_framing.h"
#include "examples/stats.h"
#include "weft.h"

ABSL_FLAG(int, port, 8080, "the port to listen on (0: any free port)");
ABSL_FLAG(std::string, listen, "127.0.0.1", "the numeric IP address to listen on");
ABSL_FLAG(int, threads, 1, "worker threads running the Executor (this one included)");
ABSL_FLAG(std::string, mode, "shared",
          "shared: one Executor and one listener; tpc: a LocalPool, one SO_REUSEPORT "
          "listener per worker");
ABSL_FLAG(bool, stats, false, "print the executor's metrics every second");

namespace {

using namespace http_framing;

// --- one connection ------------------------------------------------------

// The longest request head accepted, its blank line included; a longer one
// is answered 431 and the connection closed.
constexpr size_t kMaxHead = 16 * 1024;
// The connection's read buffer: a head that fits in it and arrives in one
// read is framed where it lies, without a copy.
constexpr size_t kReadBuffer = 16 * 1024;

static_assert(kReadBuffer <= kMaxHead, "a partial head must fit the limit");

using Reader = weft::BufReader<weft::ReadHalf<weft::TcpStream>>;

std::string_view chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Answers every complete request buffered in `reader`, appending the
// responses to `out` and consuming the requests (and their bodies; `skip`
// carries the part of a body not read yet). Stops at a partial head, which
// stays buffered; returns true when a request closes the connection.
bool answer_buffered(Reader& reader, std::string& out, size_t& skip) {
  for (;;) {
    const size_t drop = std::min(skip, reader.buffer().size());
    reader.consume(drop);
    skip -= drop;
    if (skip > 0 || reader.buffer().empty()) return false;
    const Request r = parse_head(chars(reader.buffer()));
    if (r.kind == Request::kIncomplete) return false;
    if (respond(r, out)) return true;
    reader.consume(r.head_len);
    skip = r.content_length;
  }
}

// The connection's work; `idle` moves its deadline (IdleWatch). Requests
// are read through a BufReader: the common case, whole requests per read,
// is framed in its buffer (pipelined ones too: all the responses to what
// one read brought in go out in one write); a head split across reads is
// finished line by line with read_line, bounded by kMaxHead.
weft::Task<void> serve_requests(weft::TcpStream& s, examples::IdleWatch& idle) {
  Reader reader(weft::split(s).first, kReadBuffer);  // borrows s: we write on it below
  std::string out;
  std::string head;  // a head that did not arrive in one read
  size_t skip = 0;   // body bytes still to discard
  bool close_after = false;
  for (;;) {
    if (!close_after) close_after = answer_buffered(reader, out, skip);
    if (!out.empty()) {
      idle.restart();  // the response gets --idle_timeout to be taken
      absl::Status st = co_await s.write_all(out.data(), out.size());
      out.clear();
      if (!st.ok()) co_return;
      idle.restart();  // the next request's turn
    }
    if (close_after) co_return;
    if (skip > 0 || reader.buffer().empty()) {
      // An error, the client closed, or the watchdog cut the connection
      // past its deadline (it shuts the socket down: the read sees end of
      // stream).
      auto got = co_await reader.fill_buf();
      if (!got.ok() || got->empty() || idle.expired()) co_return;
      continue;
    }
    // A partial head is buffered: take it, then read the rest line by line.
    // The first "\r\n\r\n" ends at a '\n', so at the end of some line.
    head.assign(chars(reader.buffer()));
    reader.consume(head.size());
    while (!head.ends_with("\r\n\r\n")) {
      auto n = co_await reader.read_line(head, kMaxHead - head.size());
      if (!n.ok() && absl::IsResourceExhausted(n.status())) {  // past kMaxHead
        idle.restart();
        (void)co_await s.write_all(kHeadTooLarge.data(), kHeadTooLarge.size());
        co_return;
      }
      if (!n.ok() || *n == 0 || idle.expired()) co_return;
    }
    const Request r = parse_head(head);  // complete: kOk, kBad or kChunked
    close_after = respond(r, out);
    skip = r.content_length;
    head.clear();
  }
}

// Each request (and the wait for it) gets --idle_timeout in all, counted
// from the previous response: a client that trickles its header in byte by
// byte cannot hold the connection past it. The deadline is lazy (IdleWatch):
// moving it per request arms no timer. `spawn` starts a task beside this
// one: on the Executor, or on this LocalPool worker.
template <class Spawn>
weft::Task<void> serve_http(Spawn spawn, weft::TcpStream s, std::chrono::nanoseconds idle) {
  (void)s.set_nodelay(true);  // responses are small: send each batch at once
  examples::IdleWatch watch(spawn, s, idle);
  co_await serve_requests(s, watch);
  co_await watch.stop();
}

// What examples::accept_loop calls per connection (accept_loop.h).
template <class Spawn>
auto http_handler(Spawn spawn, std::chrono::nanoseconds idle) {
  return [spawn, idle](weft::TcpStream s, weft::SocketAddress /*peer*/) {
    return serve_http(spawn, std::move(s), idle);
  };
}

// Serves until SIGINT or SIGTERM, then drains; returns the exit status.
weft::Task<int> serve_until_signal(weft::Executor* ex, weft::TcpListener* listener,
                                   weft::Signals* signals, examples::ServerLimits limits) {
  examples::Connections conns(limits.max_connections);
  auto spawn = [ex](weft::Task<void> t) { return ex->spawn(std::move(t)); };
  auto acceptor = ex->spawn(examples::accept_loop(spawn, *listener, conns,
                                                  http_handler(spawn, limits.idle_timeout)));
  co_await examples::stop_on_signal(*signals, acceptor, conns, limits.drain_timeout);
  co_return 0;
}

// --- thread per core -------------------------------------------------------

// One worker's server: its own listener, connections and limit, all on its
// thread. Serves until `stop` is done, then drains like the shared mode.
weft::Task<void> serve_shard(weft::TcpListener listener, examples::ServerLimits limits,
                             weft::WaitGroup* stop) {
  examples::Connections conns(limits.max_connections);
  auto spawn = [](weft::Task<void> t) { return weft::LocalPool::spawn_local(std::move(t)); };
  auto acceptor = weft::LocalPool::spawn_local(examples::accept_loop(
      spawn, listener, conns, http_handler(spawn, limits.idle_timeout)));
  co_await stop->wait();
  co_await acceptor.cancel();  // no new connections
  co_await conns.drain(limits.drain_timeout);
}

// Waits for SIGINT or SIGTERM, stops every shard and waits for their drains.
weft::Task<int> stop_shards_on_signal(weft::Signals* signals, weft::WaitGroup* stop,
                                      std::vector<weft::JoinHandle<void>>* shards) {
  co_await examples::await_stop_signal(*signals);
  stop->done();
  for (auto& shard : *shards) co_await shard;
  co_return 0;
}

// The extra worker threads' main task: leaves ex.run() once `stop` is done.
weft::Task<void> wait_for(weft::WaitGroup* stop) { co_await stop->wait(); }

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int port = absl::GetFlag(FLAGS_port);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const bool stats = absl::GetFlag(FLAGS_stats);
  if (threads < 1 || port < 0 || port > 65535) {
    std::fprintf(stderr, "--threads must be >= 1 and --port 0..65535\n");
    return 2;
  }
  if (mode != "shared" && mode != "tpc") {
    std::fprintf(stderr, "--mode must be shared or tpc, not \"%s\"\n", mode.c_str());
    return 2;
  }

  // SIGINT / SIGTERM from here on become a stop request (connections.h).
  int startup_failed = 0;
  std::optional<examples::ServerStartup> start = examples::server_startup(&startup_failed);
  if (!start) return startup_failed;
  weft::Signals& signals = start->signals;
  const examples::ServerLimits& limits = start->limits;

  auto addr =
      weft::SocketAddress::from_ip(absl::GetFlag(FLAGS_listen), static_cast<uint16_t>(port));
  if (!addr.ok()) {
    std::fprintf(stderr, "--listen: %s\n", addr.status().ToString().c_str());
    return 2;
  }
  // tpc: one listener per worker, the first choosing the port (--port 0)
  // and the others joining it.
  const bool tpc = mode == "tpc";
  std::vector<weft::TcpListener> listeners;
  for (int i = 0; i < (tpc ? threads : 1); ++i) {
    auto l = weft::TcpListener::bind(
        i == 0 ? *addr : listeners[0].local_address().value(),
        weft::ListenOptions{.reuse_port = tpc});
    if (!l.ok()) {
      std::fprintf(stderr, "%s\n", l.status().ToString().c_str());
      return 1;
    }
    listeners.push_back(*std::move(l));
  }
  std::printf("http_hello listening on http://%s/ with %d thread%s (%s)\n",
              listeners[0].local_address().value().to_string().c_str(), threads,
              threads == 1 ? "" : "s", mode.c_str());
  std::fflush(stdout);

  if (tpc) {
    examples::ServerLimits shard_limits = limits;
    shard_limits.max_connections = std::max<size_t>(1, limits.max_connections / threads);
    weft::WaitGroup stop;  // a one-shot latch, as below
    stop.add(1);
    weft::LocalPool pool({.threads = static_cast<size_t>(threads)});
    std::vector<weft::JoinHandle<void>> shards;
    for (int i = 0; i < threads; ++i) {
      shards.push_back(pool.spawn_pinned_on(
          i, [l = std::move(listeners[i]), shard_limits, &stop]() mutable {
            return serve_shard(std::move(l), shard_limits, &stop);
          }));
    }
    if (stats) {
      pool.spawn_pinned_on(0, [&pool] {
            return examples::stats_every_second("tpc", [&pool] { return pool.metrics(); });
          }).detach();
    }
    const int rc = weft::block_on(stop_shards_on_signal(&signals, &stop, &shards));
    std::printf("bye\n");
    return rc;
  }
  weft::TcpListener* listener = &listeners[0];

  int rc;
  {
    // Declared after the listener and signals: destroyed first, with every
    // task it still holds (open connections), once no thread is inside run().
    weft::WaitGroup stop;  // a one-shot latch: count 1 until the server is done
    stop.add(1);
    weft::Executor ex;
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) workers.emplace_back([&] { ex.run(wait_for(&stop)); });
    if (stats) {
      ex.spawn(examples::stats_every_second("shared", [&ex] {
          return std::vector<weft::ExecutorMetrics>{ex.metrics()};
        })).detach();
    }
    rc = ex.run(serve_until_signal(&ex, listener, &signals, limits));
    stop.done();
    for (auto& t : workers) t.join();
  }
  std::printf("bye\n");
  return rc;
}
